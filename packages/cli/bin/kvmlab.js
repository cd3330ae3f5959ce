#!/usr/bin/env node
// Committed shim: npm links a workspace bin only if its target exists at install time, so
// the bin points here and this imports the build output (`npm ci` builds it via `prepare`).
import '../dist/cli.js';
