// @kvmlab/linux-kvm
export {};
