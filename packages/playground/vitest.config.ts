import { defineProject, mergeConfig } from 'vitest/config';
import shared from '../../vitest.shared.js';

// globalSetup builds the app with Vite into a temporary folder; the browser tests serve it.
export default mergeConfig(shared, defineProject({ test: { name: 'playground', globalSetup: ['./test/global-setup.ts'], testTimeout: 30_000, hookTimeout: 90_000 } }));
