// Setup file for `npm run mutate` (added by vitest.shared.ts when KVMLAB_MUTATE is set).
// @fast-check/vitest names a property test `<label> (with seed=N)`, with a fresh random N per
// run when the test gives none; Stryker selects the tests covering a mutant by name, so a name
// that changes between its dry run and the mutant runs matches nothing and the mutant is wrongly
// reported as surviving. One fixed global seed makes every name and every generated case stable.
import fc from 'fast-check';

const seed = Number(process.env.KVMLAB_MUTATE_SEED ?? 22);
fc.configureGlobal({ ...fc.readConfigureGlobal(), seed });
