/** kvm_get_time_scale() and div_frac() live in hypervisor-core (x86/pvclock-scale.ts); kept here under their old path. */
export { divFrac, kvmGetTimeScale, type TimeScale } from '@kvmlab/hypervisor-core';
