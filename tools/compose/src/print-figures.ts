/**
 * The figures the composition tests assert, printed per variant pair (seed and frame count as
 * arguments): `npx tsx --conditions=@kvmlab/source tools/compose/src/print-figures.ts [seed] [frames]`.
 * Every number is computed from the run's records by figures.ts, as in the tests.
 */
import { lostWrites, perEntry, pmlFromL2, totalWrites } from './figures.js';
import { runMuen } from './muen-rig.js';
import { COMBINATIONS } from './rig.js';

const seed = Number(process.argv[2] ?? 1);
const frames = Number(process.argv[3] ?? 48);
console.log(`seed ${seed}, ${frames} minor frames`);
console.log('kvm-mmu-pml + nvmx-cr3 | corruptions | entries / squashed | PML entries from L2 | writes | lost writes | vmcs02 GUEST_CR3 VMWRITEs per entry (entered / squashed)');
for (const [pml, cr3] of COMBINATIONS) {
  const r = runMuen({ pml, cr3, seed, frames });
  const w = perEntry(r.entries, (e) => e.vmcs02Cr3Vmwrites);
  console.log([
    `${pml} + ${cr3}`, r.corruptions.length, `${r.entries.length} / ${r.entries.filter((e) => e.squashed).length}`, pmlFromL2(r.runs),
    totalWrites(r.frames), lostWrites(r.frames).length, `${w.entered.join(',')} / ${w.squashed.join(',')}`,
  ].join(' | '));
}
