// @kvmlab/ptp-kvm-core
import type { ScenarioDef } from '@kvmlab/hypervisor-core';

export type { PtpKvmArchHooks, PtpKvmCrosststamp, Timespec64 } from './arch-hooks.js';

/** Scenarios this package provides (the shared ptp-sync harness lives here; arch packages export the runnable ones). */
export const scenarios: readonly ScenarioDef[] = [];
