/**
 * psciConduit(): KVM's SMCCC/PSCI handling on arm64 as a plugin. It installs the HVC/SMC trap
 * policy, the SMCCC/PSCI answers, the vendor-hypervisor service (UID, features) and its
 * registry, the firmware registers KVM_REG_ARM_PSCI_VERSION and KVM_REG_ARM_VENDOR_HYP_BMAP,
 * and (optionally) the time an HVC/SMC round trip takes in virtual time.
 */
import {
  definePlugin,
  drawLatency,
  KvmError,
  u64,
  type Conduit,
  type Latency,
  type Plugin,
  type PluginContext,
  type SmcccHandler,
  type Vm,
} from '@kvmlab/hypervisor-core';
import {
  ARM_SMCCC_ARCH_FEATURES_FUNC_ID,
  ARM_SMCCC_VENDOR_HYP_CALL_UID_FUNC_ID,
  ARM_SMCCC_VENDOR_HYP_KVM_FEATURES_FUNC_ID,
  ARM_SMCCC_VENDOR_HYP_UID_KVM,
  ARM_SMCCC_VERSION_FUNC_ID,
  KVM_ARM_PSCI_0_1,
  KVM_ARM_PSCI_0_2,
  KVM_ARM_PSCI_1_0,
  KVM_ARM_PSCI_1_1,
  KVM_REG_ARM_PSCI_VERSION,
  KVM_REG_ARM_VENDOR_HYP_BIT_FUNC_FEAT,
  KVM_REG_ARM_VENDOR_HYP_BMAP,
  PSCI_0_2_FN_PSCI_VERSION,
  PSCI_1_0_FN_PSCI_FEATURES,
  SMCCC_RET_NOT_SUPPORTED_U64,
} from '../constants.js';
import { psciFeaturesCall, psciVersionCall, smcccArchFeaturesCall, smcccVersionCall } from './psci.js';
import { uuidToWords, VENDOR_HYP_REGISTRY, VendorHypServices, type VendorHypRegistry } from './vendor-hyp.js';

export const PSCI_CONDUIT_PLUGIN = 'psci-conduit';

/** The UUID a 6.16-rc host sent before "Fix vendor uuid" (UUID_INIT with swapped fields; spec §3.6). */
export const ARM_SMCCC_VENDOR_HYP_UID_KVM_6_16_RC = 'b66fb428-c52e-e911-a9ca-4b564d003a74';

export interface PsciConduitOptions {
  /**
   * The vCPU feature KVM_ARM_VCPU_PSCI_0_2 (default true): with it the VM's PSCI version is
   * 1.1 (settable to 0.2, 1.0 or 1.1 through KVM_REG_ARM_PSCI_VERSION), without it 0.1.
   */
  readonly psci02?: boolean;
  /** SMC from EL1 handled like HVC when imm = 0 ([≥v6.4], default) or always refused ([<v6.4]). */
  readonly smcFromGuest?: 'v6.4' | 'pre-v6.4';
  /** The UUID CALL_UID answers (default the KVM UID; '6.16-rc' models the regression). */
  readonly uid?: 'kvm' | '6.16-rc';
  /** Time a trapped call takes: `entry` passes before the handler runs, `exit` after. */
  readonly latency?: { readonly entry: Latency; readonly exit: Latency };
}

interface VmPsciState {
  version: number;
}

/** What psci-conduit decorates: the vendor-hyp registry plus per-VM PSCI state (for tests and VMMs). */
export interface PsciConduitHost extends VendorHypRegistry {
  psciVersion(vm: Vm): number;
}

export function psciConduit(opts: PsciConduitOptions = {}): Plugin {
  const psci02 = opts.psci02 ?? true;
  const smcPolicy = opts.smcFromGuest ?? 'v6.4';
  const uid = uuidToWords(opts.uid === '6.16-rc' ? ARM_SMCCC_VENDOR_HYP_UID_KVM_6_16_RC : ARM_SMCCC_VENDOR_HYP_UID_KVM);
  return definePlugin({
    name: PSCI_CONDUIT_PLUGIN,
    arch: 'arm64',
    setup(ctx: PluginContext) {
      const latency = opts.latency;
      // Every trapped call KVM handles takes an exit to EL2 and back.
      const timed = (h: SmcccHandler): SmcccHandler => latency === undefined ? h : (vcpu, x, conduit) => {
        ctx.sim.elapse(drawLatency(ctx.sim.rng, latency.entry));
        const r = h(vcpu, x, conduit);
        ctx.sim.elapse(drawLatency(ctx.sim.rng, latency.exit));
        return r;
      };
      const services = new VendorHypServices((s) => {
        // kvm_smccc_call_handler(): a vendor service runs only if its bmap bit is set.
        ctx.smccc(s.functionId, timed((vcpu, x, c) => (services.allowed(vcpu.vm, s.bit) ? s.handler(vcpu, x, c) : [SMCCC_RET_NOT_SUPPORTED_U64, 0n, 0n, 0n])));
      });
      const psciState = new WeakMap<Vm, VmPsciState>();
      const stateOf = (vm: Vm): VmPsciState => {
        let st = psciState.get(vm);
        if (st === undefined) {
          st = { version: psci02 ? KVM_ARM_PSCI_1_1 : KVM_ARM_PSCI_0_1 };
          psciState.set(vm, st);
        }
        return st;
      };

      // handle_hvc() / handle_smc() (arch/arm64/kvm/handle_exit.c).
      ctx.armTrapPolicy((conduit: Conduit, imm: number) => {
        if (conduit === 'hvc') return 'dispatch';
        if (smcPolicy === 'pre-v6.4') return 'not-supported';
        return imm === 0 ? 'dispatch' : 'not-supported';
      });

      ctx.smccc(ARM_SMCCC_VERSION_FUNC_ID, timed(() => smcccVersionCall()));
      ctx.smccc(ARM_SMCCC_ARCH_FEATURES_FUNC_ID, timed((_v, x) => smcccArchFeaturesCall(x[1] ?? 0n)));
      ctx.smccc(PSCI_0_2_FN_PSCI_VERSION, timed((vcpu) => psciVersionCall(stateOf(vcpu.vm).version)));
      ctx.smccc(PSCI_1_0_FN_PSCI_FEATURES, timed((vcpu, x) => psciFeaturesCall(stateOf(vcpu.vm).version, x[1] ?? 0n)));
      const FEAT = KVM_REG_ARM_VENDOR_HYP_BIT_FUNC_FEAT;
      ctx.smccc(ARM_SMCCC_VENDOR_HYP_CALL_UID_FUNC_ID, timed((vcpu) => (services.allowed(vcpu.vm, FEAT) ? [...uid] : [SMCCC_RET_NOT_SUPPORTED_U64, 0n, 0n, 0n])));
      ctx.smccc(ARM_SMCCC_VENDOR_HYP_KVM_FEATURES_FUNC_ID, timed((vcpu) => (services.allowed(vcpu.vm, FEAT) ? [u64(services.bitmap(vcpu.vm)), 0n, 0n, 0n] : [SMCCC_RET_NOT_SUPPORTED_U64, 0n, 0n, 0n])));

      // models kvm_arm_set_fw_reg() / kvm_arm_get_fw_reg(), KVM_REG_ARM_PSCI_VERSION case.
      ctx.oneReg(KVM_REG_ARM_PSCI_VERSION, {
        get: (vcpu) => BigInt(stateOf(vcpu.vm).version),
        set: (vcpu, value) => {
          const ok = psci02 ? [KVM_ARM_PSCI_0_2, KVM_ARM_PSCI_1_0, KVM_ARM_PSCI_1_1] : [KVM_ARM_PSCI_0_1];
          const v = Number(value & 0xffff_ffffn);
          if (value > 0xffff_ffffn || !ok.includes(v)) throw new KvmError('EINVAL', `PSCI version 0x${value.toString(16)} not allowed`, 'value');
          stateOf(vcpu.vm).version = v;
        },
      });
      ctx.oneReg(KVM_REG_ARM_VENDOR_HYP_BMAP, {
        get: (vcpu) => services.bitmap(vcpu.vm),
        set: (vcpu, value) => services.setBitmap(vcpu.vm, value),
      });
      const host: PsciConduitHost = {
        register: (owner, s) => services.register(owner, { ...s, handler: s.handler }),
        bitmap: (vm) => services.bitmap(vm),
        psciVersion: (vm) => stateOf(vm).version,
      };
      ctx.decorate(VENDOR_HYP_REGISTRY, host);
    },
  });
}

