import { fileURLToPath } from 'node:url';
import { defineProject } from 'vitest/config';

// `npm run soak` (KVMLAB_SOAK=1) runs property and fuzz tests ~100× longer: give them time.
const soak = process.env.KVMLAB_SOAK ? { testTimeout: 1_800_000, hookTimeout: 600_000 } : {};
// `npm run mutate` (KVMLAB_MUTATE=1) gives every property test one fixed seed, so that test names
// and cases are the same in Stryker's dry run and in its mutant runs (tools/mutate/fixed-seed.mjs).
const mutate = process.env.KVMLAB_MUTATE
  ? {
      setupFiles: [fileURLToPath(new URL('./tools/mutate/fixed-seed.mjs', import.meta.url))],
      // Instrumented code on a shared, niced machine runs several times slower than `npm test`.
      testTimeout: 120_000,
      hookTimeout: 120_000,
    }
  : {};

// A scenario test runs a whole model (a migration of a few hundred MiB takes 2–6 s alone); with
// every project's files in parallel on 2 cores it can take several times that. The timeout is a
// hang guard, not a speed check (speed is `npm run bench`), so it leaves room for a busy machine.
const timeouts = { testTimeout: 60_000, hookTimeout: 120_000 };

// A test file of a model package only builds models: no mocks, and the one process-wide state (the
// pool of zeroed guest-memory blocks) is not observable. Without a fresh module graph per file,
// such a file starts in milliseconds instead of re-importing every source through Vite
// (`npx vitest run --project hypervisor-core`, 3 runs each: 62.0–67.9 s isolated, 16.5–18.2 s not). The CLI's project keeps
// isolation (its tests drive the CLI in-process too, and spawn it: little to gain); so does a
// mutation run, where Stryker swaps modules between runs.
const isolate = { isolate: process.env.KVMLAB_MUTATE !== undefined };

// Tests run on the TypeScript sources of every workspace package (no build step):
// node tests run in Vite's SSR environment, so only ssr.resolve.conditions selects the
// `@kvmlab/source` export condition (see ../shared/TOOLCHAIN.md).
export default defineProject({
  ssr: { resolve: { conditions: ['@kvmlab/source', 'module', 'node', 'development|production'] } },
  test: { include: ['src/**/*.test.ts', 'test/**/*.test.ts'], environment: 'node', ...isolate, ...timeouts, ...soak, ...mutate },
});
