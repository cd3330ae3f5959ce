// @kvmlab/kvm-mmu-pml
export {};
