// @kvmlab/psci-conduit
export {};
