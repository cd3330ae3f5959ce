// @kvmlab/ptp-kvm-x86
import type { ScenarioDef } from '@kvmlab/hypervisor-core';

/** Scenarios this package provides (the CLI registers every one). */
export const scenarios: readonly ScenarioDef[] = [];
