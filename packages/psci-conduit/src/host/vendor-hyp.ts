/**
 * The KVM vendor-hypervisor service (arch/arm64/kvm/hypercalls.c): CALL_UID, KVM_FEATURES and
 * the registry other plugins add services to. Each service is a feature bit of the VM's
 * vendor_hyp_bmap (KVM_REG_ARM_VENDOR_HYP_BMAP) plus a function id; a call whose bit is clear
 * is denied with NOT_SUPPORTED (5.19+), like kvm_smccc_test_fw_bmap() does.
 */
import { CompositionError, KvmError, type SmcccHandler, type Vm } from '@kvmlab/hypervisor-core';
import {
  ARM_SMCCC_KVM_NUM_FUNCS,
  ARM_SMCCC_VENDOR_HYP_CALL_UID_FUNC_ID,
  ARM_SMCCC_VENDOR_HYP_KVM_FEATURES_FUNC_ID,
  KVM_REG_ARM_VENDOR_HYP_BIT_FUNC_FEAT,
} from '../constants.js';

/** The decoration key psci-conduit offers the registry under. */
export const VENDOR_HYP_REGISTRY = 'psci-conduit/vendor-hyp';

export interface VendorHypService {
  /** Bit in vendor_hyp_bmap / the KVM_FEATURES reply (ARM_SMCCC_KVM_FUNC_*). */
  readonly bit: number;
  /** SMCCC function id (e.g. ARM_SMCCC_VENDOR_HYP_KVM_PTP_FUNC_ID). */
  readonly functionId: number;
  readonly name: string;
  readonly handler: SmcccHandler;
}

/** What a plugin that requires 'psci-conduit' receives from ctx.dependency(VENDOR_HYP_REGISTRY). */
export interface VendorHypRegistry {
  register(owner: string, service: VendorHypService): void;
  /** The VM's vendor_hyp_bmap. */
  bitmap(vm: Vm): bigint;
}

interface VmFwState {
  bmap: bigint;
}

/** The registry and the per-VM firmware bitmap state. */
export class VendorHypServices implements VendorHypRegistry {
  readonly services: VendorHypService[] = [];
  private readonly perVm = new WeakMap<Vm, VmFwState>();
  /** Called for each registered service so the plugin can install its SMCCC handler. */
  private readonly install: (s: VendorHypService) => void;

  constructor(install: (s: VendorHypService) => void) {
    this.install = install;
  }

  register(owner: string, s: VendorHypService): void {
    if (!Number.isInteger(s.bit) || s.bit <= KVM_REG_ARM_VENDOR_HYP_BIT_FUNC_FEAT || s.bit >= ARM_SMCCC_KVM_NUM_FUNCS) {
      throw new CompositionError('INVALID_PLUGIN', owner, `vendor-hyp feature bit ${s.bit} is not in 1..127`);
    }
    const dup = this.services.find((x) => x.bit === s.bit);
    if (dup !== undefined) throw new CompositionError('DUPLICATE_EXTENSION', owner, `vendor-hyp feature bit ${s.bit} is already "${dup.name}"`);
    this.services.push(s);
    this.install(s);
  }

  /** Bits KVM_REG_ARM_VENDOR_HYP_BMAP accepts: FUNC_FEAT plus every installed service. */
  get validMask(): bigint {
    let m = 1n << BigInt(KVM_REG_ARM_VENDOR_HYP_BIT_FUNC_FEAT);
    for (const s of this.services) m |= 1n << BigInt(s.bit);
    return m;
  }

  private state(vm: Vm): VmFwState {
    let st = this.perVm.get(vm);
    if (st === undefined) {
      // kvm_arm_init_hypercalls(): every implemented service on by default.
      st = { bmap: this.validMask };
      this.perVm.set(vm, st);
    }
    return st;
  }

  bitmap(vm: Vm): bigint {
    return this.state(vm).bmap;
  }

  /** Whether the VM's vendor_hyp_bmap has `bit`. */
  allowed(vm: Vm, bit: number): boolean {
    return ((this.bitmap(vm) >> BigInt(bit)) & 1n) === 1n;
  }

  /**
   * models kvm_smccc_test_fw_bmap() for the vendor range: UID and FEATURES need FUNC_FEAT, a
   * service its own bit. Other ids pass (KVM denies the ones kvm_smccc_default_allowed() does not
   * list, which answers the same -1 the PSCI fallback gives; TRNG and PV time are not modelled).
   */
  callAllowed(vm: Vm, functionId: number): boolean {
    if (functionId === ARM_SMCCC_VENDOR_HYP_CALL_UID_FUNC_ID || functionId === ARM_SMCCC_VENDOR_HYP_KVM_FEATURES_FUNC_ID) {
      return this.allowed(vm, KVM_REG_ARM_VENDOR_HYP_BIT_FUNC_FEAT);
    }
    const s = this.services.find((x) => x.functionId === functionId);
    return s === undefined || this.allowed(vm, s.bit);
  }

  /** models kvm_arm_set_fw_reg_bmap() (arch/arm64/kvm/hypercalls.c). */
  setBitmap(vm: Vm, value: bigint): void {
    if ((value & ~this.validMask) !== 0n) {
      throw new KvmError('EINVAL', `vendor_hyp_bmap 0x${value.toString(16)} has bits outside 0x${this.validMask.toString(16)}`, 'value');
    }
    const st = this.state(vm);
    if (vm.hasRun && value !== st.bmap) {
      throw new KvmError('EBUSY', 'vendor_hyp_bmap cannot change after the VM has run', 'value');
    }
    st.bmap = value;
  }
}

/** Splits a UUID string into the four SMCCC UID words: byte i is byte i % 4 (little-endian) of word i / 4. */
export function uuidToWords(uuid: string): readonly [bigint, bigint, bigint, bigint] {
  const hex = uuid.replace(/-/g, '');
  if (!/^[0-9a-fA-F]{32}$/.test(hex)) throw new RangeError(`not a UUID: ${uuid}`);
  const words: bigint[] = [];
  for (let w = 0; w < 4; w++) {
    let v = 0n;
    for (let b = 3; b >= 0; b--) v = (v << 8n) | BigInt(parseInt(hex.slice((w * 4 + b) * 2, (w * 4 + b) * 2 + 2), 16));
    words.push(v);
  }
  return [words[0]!, words[1]!, words[2]!, words[3]!];
}
