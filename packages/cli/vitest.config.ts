import { defineProject, mergeConfig } from 'vitest/config';
import shared from '../../vitest.shared.js';

// globalSetup builds dist/ first: the CLI tests spawn the built binary as a user would.
export default mergeConfig(shared, defineProject({ test: { name: 'cli', isolate: true, globalSetup: ['./test/global-setup.ts'], testTimeout: 30_000, hookTimeout: 60_000 } }));
