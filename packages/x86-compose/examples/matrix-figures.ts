/**
 * The figures of the README's matrix table: every cell of kvm-mmu-pml × nvmx-cr3 at the default
 * size over seeds 0–4, each figure as min–max over the seeds.
 *   npx tsx --conditions=@kvmlab/source packages/x86-compose/examples/matrix-figures.ts [seeds]
 */
import { DEFAULT_MIGRATION, MIGRATION_AXES, runMuenMigration, type MuenMigrationRun } from '../src/index.js';

const seeds = Array.from({ length: Number(process.argv[2] ?? 5) }, (_, i) => i);
const range = (runs: readonly MuenMigrationRun[], f: (r: MuenMigrationRun) => number): string => {
  const v = runs.map(f);
  const lo = Math.min(...v);
  const hi = Math.max(...v);
  return lo === hi ? `${lo}` : `${lo}–${hi}`;
};
console.log('| kvm-mmu-pml | nvmx-cr3 | pages lost | CR3 corruptions, source | CR3 corruptions, destination | stale GUEST_CR3 saved | rounds | downtime (ms) | nested entries, source | PML entries | write-protect faults |');
console.log('|---|---|---|---|---|---|---|---|---|---|---|');
for (const pml of MIGRATION_AXES['kvm-mmu-pml']) {
  for (const cr3 of MIGRATION_AXES['nvmx-cr3']) {
    const runs = seeds.map((seed) => runMuenMigration({ ...DEFAULT_MIGRATION, pml, cr3, seed }));
    const stale = runs.filter((r) => r.saved.some((s) => s.staleCr3)).length;
    console.log(`| ${pml} | ${cr3} | ${range(runs, (r) => r.precopy.pagesLost)} | ${range(runs, (r) => r.source.corruptions.length)} | ${range(runs, (r) => r.destination.corruptions.length)} | ${stale} of ${runs.length} runs | ${range(runs, (r) => r.rounds.length)} | ${range(runs, (r) => Math.round(r.precopy.downtimeMs * 1000) / 1000)} | ${range(runs, (r) => r.source.nestedEntries)} | ${range(runs, (r) => r.source.pmlEntriesLogged)} | ${range(runs, (r) => r.source.writeProtectFaults)} |`);
  }
}
