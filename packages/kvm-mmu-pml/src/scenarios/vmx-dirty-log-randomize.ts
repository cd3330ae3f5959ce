/**
 * `kvmlab sweep vmx-dirty-log --randomize`: nothing to draw. The selftest
 * (tools/testing/selftests/kvm/x86_64/vmx_dirty_log_test.c) is one fixed program — the same
 * L2 stores, syncs and checks every time — so a sweep varies only the seed (the latencies the
 * model draws). Its two options are L0 module parameters, not workload: with enable_pml=0 or
 * ept_ad=0 the 5.3 bug's path (PML logging the L2 GPA) is not taken at all, so they are swept
 * with `--set enablePml=true,false`, not drawn.
 */
import type { ScenarioRandomize } from '@kvmlab/hypervisor-core';

export const vmxDirtyLogRandomize: ScenarioRandomize = {};
