// @kvmlab/ptp-kvm-core
export {};
