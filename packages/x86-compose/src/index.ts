/**
 * @kvmlab/x86-compose — the two x86 series in one hypervisor: a Muen-like nested system
 * (nvmx-cr3's L1) live-migrated with pre-copy over PML (kvm-mmu-pml), in every combination of
 * the two series' variants.
 */
import type { ScenarioDef } from '@kvmlab/hypervisor-core';
import { nestedMuenMigration } from './scenario.js';

export { cr3IsArchitectural, DATA_PAGES, DEFAULT_WORKLOAD, MAX_CPUS, muenConfigOf, planOf, subjectsOf, SUBJECTS_PER_CPU, vmSubjectLoads, type SmpWorkload } from './muen-smp.js';
export { RoundRobin, SourceStopped, type MuenCpu } from './round-robin.js';
export { restoreVcpu, saveVcpu, savedGuestCr3, vmcs12OfState, type VcpuSnapshot } from './vcpu-state.js';
export {
  DEFAULT_MIGRATION, L1_BYTES, runMuenMigration, type MuenMigrationOptions, type MuenMigrationRun, type SavedVcpuFigures, type SideFigures,
} from './muen-migration.js';
export { nestedMuenMigration, MIGRATION_AXES } from './scenario.js';

/** Scenarios this package provides (the CLI registers every one). */
export const scenarios: readonly ScenarioDef[] = [nestedMuenMigration];
