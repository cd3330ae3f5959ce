/**
 * The guest kernel's view of its firmware (drivers/firmware/psci/psci.c,
 * drivers/firmware/smccc/smccc.c): the PSCI conduit found at boot (psci_ops.conduit, which the
 * series' first patch exported), the SMCCC version, and the SMCCC 1.1 invoke that the later
 * drivers use. Calls go through the vCPU's HVC/SMC, the architectural boundary.
 */
import { u64, type Vcpu } from '@kvmlab/hypervisor-core';
import { ARM_SMCCC_VERSION_1_0, ARM_SMCCC_VERSION_1_1, SMCCC_RET_NOT_SUPPORTED_U64 } from '../constants.js';

export type GuestConduit = 'hvc' | 'smc' | 'none';

export interface GuestFirmwareStats {
  /** HVC/SMC instructions the guest executed through this firmware interface. */
  traps: number;
}

export class GuestFirmware {
  readonly vcpu: Vcpu;
  /** psci_ops.conduit: how PSCI calls are made ('none' when no PSCI was found). */
  psciConduit: GuestConduit = 'none';
  /** The PSCI version psci_probe() read (0 until probed). */
  psciVersion = 0;
  /** smccc_version: 1.0 until psci_init_smccc() learns 1.1 or later. */
  smcccVersion = ARM_SMCCC_VERSION_1_0;
  /** smccc_conduit, set by arm_smccc_version_init(). */
  private smcccConduit: GuestConduit = 'none';
  readonly stats: GuestFirmwareStats = { traps: 0 };

  constructor(vcpu: Vcpu) {
    this.vcpu = vcpu;
  }

  /**
   * The same firmware state seen from another CPU: psci_ops and smccc_version are global in the
   * kernel, only the instruction runs on `vcpu`.
   */
  onCpu(vcpu: Vcpu): GuestFirmware {
    const fw = new GuestFirmware(vcpu);
    fw.psciConduit = this.psciConduit;
    fw.psciVersion = this.psciVersion;
    fw.smcccVersionInit(this.smcccVersion, this.smcccConduit);
    return fw;
  }

  /** The exported conduit (psci_ops.conduit in the 2019 series). */
  getConduit(): GuestConduit {
    return this.psciConduit;
  }

  /** models arm_smccc_version_init() (drivers/firmware/smccc/smccc.c). */
  smcccVersionInit(version: number, conduit: GuestConduit): void {
    this.smcccVersion = version;
    this.smcccConduit = conduit;
  }

  /** models arm_smccc_1_1_get_conduit(): NONE below SMCCC 1.1. */
  smccc11GetConduit(): GuestConduit {
    return this.smcccVersion < ARM_SMCCC_VERSION_1_1 ? 'none' : this.smcccConduit;
  }

  private trap(conduit: GuestConduit, x: readonly bigint[]): bigint[] {
    if (conduit === 'none') return [SMCCC_RET_NOT_SUPPORTED_U64, 0n, 0n, 0n]; // __fail_smccc_1_1: no instruction
    this.stats.traps++;
    const regs = x.map(u64);
    return conduit === 'hvc' ? this.vcpu.hvc(regs, 0) : this.vcpu.smc(regs, 0);
  }

  /** models arm_smccc_1_1_invoke() (include/linux/arm-smccc.h, ≥ v5.6): through smccc_conduit. */
  smccc11Invoke(x: readonly bigint[]): bigint[] {
    return this.trap(this.smccc11GetConduit(), x);
  }

  /** arm_smccc_1_1_invoke() as it was in 2019 (v5.3): switched on psci_ops.conduit, no version check. */
  smccc11InvokeViaPsciOps(x: readonly bigint[]): bigint[] {
    return this.trap(this.psciConduit, x);
  }

  /** models invoke_psci_fn (__invoke_psci_fn_hvc / _smc): a PSCI call on the PSCI conduit. */
  invokePsciFn(fn: number, a1 = 0n, a2 = 0n, a3 = 0n): bigint[] {
    return this.trap(this.psciConduit, [BigInt(fn), a1, a2, a3]);
  }
}
