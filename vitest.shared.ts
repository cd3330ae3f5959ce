import { defineProject } from 'vitest/config';

// Tests run on the TypeScript sources of every workspace package (no build step):
// node tests run in Vite's SSR environment, so only ssr.resolve.conditions selects the
// `@kvmlab/source` export condition (see ../shared/TOOLCHAIN.md).
export default defineProject({
  ssr: { resolve: { conditions: ['@kvmlab/source', 'module', 'node', 'development|production'] } },
  test: { include: ['src/**/*.test.ts', 'test/**/*.test.ts'], environment: 'node' },
});
