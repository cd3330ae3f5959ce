// @kvmlab/cli
export {};
