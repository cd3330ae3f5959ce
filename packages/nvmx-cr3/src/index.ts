// @kvmlab/nvmx-cr3
export {};
