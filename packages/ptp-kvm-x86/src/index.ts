// @kvmlab/ptp-kvm-x86
export {};
