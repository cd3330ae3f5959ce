import { defineConfig } from 'vitest/config';

// One vitest project per package (and per tool that has tests), named after its folder.
export default defineConfig({
  test: { projects: ['packages/*/vitest.config.ts', 'tools/*/vitest.config.ts'] },
});
