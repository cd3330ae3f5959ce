import { defineProject, mergeConfig } from 'vitest/config';
import shared from '../../vitest.shared.js';

// The determinism test spawns the built CLI: globalSetup builds it (and every package it imports) first.
export default mergeConfig(shared, defineProject({ test: { name: 'tools-bench', globalSetup: ['./src/determinism/global-setup.ts'], testTimeout: 120_000, hookTimeout: 300_000 } }));
