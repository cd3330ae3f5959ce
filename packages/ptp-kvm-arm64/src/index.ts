// @kvmlab/ptp-kvm-arm64
export {};
