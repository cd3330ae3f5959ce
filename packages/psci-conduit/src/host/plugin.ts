/**
 * psciConduit(): KVM's SMCCC/PSCI handling on arm64 as a plugin. It installs the HVC/SMC trap
 * policy (handle_hvc() / handle_smc() and the gate of kvm_smccc_call_handler()), the SMCCC/PSCI
 * answers, the vendor-hypervisor service (UID, features) and its registry, the firmware
 * registers, the userspace SMCCC filter, and (optionally) the time an HVC/SMC round trip takes.
 * What the host does follows the kernel's era (host-profile.ts).
 */
import {
  assertInt,
  assertStruct,
  assertU32,
  assertU64,
  checkPluginOptions,
  definePlugin,
  drawLatency,
  KvmError,
  u32,
  u64,
  type ArmTrapAction,
  type Conduit,
  type Latency,
  type Plugin,
  type PluginContext,
  type SmcccHandler,
  type Vcpu,
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
} from '../constants.js';
import { ARM_HOST_PROFILES, armHostProfileFor, type ArmHostProfile, type ArmHostProfileName } from './host-profile.js';
import { psciFeaturesCall, psciVersionCall, smcccArchFeaturesCall, smcccVersionCall } from './psci.js';
import {
  KVM_ARM_VM_SMCCC_CTRL,
  KVM_ARM_VM_SMCCC_FILTER,
  KVM_HYPERCALL_EXIT_SMC,
  KVM_SMCCC_FILTER_DENY,
  KVM_SMCCC_FILTER_FWD_TO_USER,
  SmcccFilters,
  type KvmVmDeviceAttr,
  type SmcccUserHandler,
} from './smccc-filter.js';
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
  /** The host era (default: from the hypervisor's kernel; no kernel: 'v6.4', today's). */
  readonly host?: ArmHostProfileName;
  /** Overrides the era's SMC handling: SMC #0 like HVC ('v6.4') or every SMC refused ('pre-v6.4'). */
  readonly smcFromGuest?: 'v6.4' | 'pre-v6.4';
  /** The UUID CALL_UID answers (default the KVM UID; '6.16-rc' models the regression). */
  readonly uid?: 'kvm' | '6.16-rc';
  /**
   * Time a trapped call takes: `entry` passes before the handler runs, `exit` after; with
   * `steal`, the vCPU is preempted after the handler with that probability for a drawn time.
   */
  readonly latency?: { readonly entry: Latency; readonly exit: Latency; readonly steal?: { readonly probability: number; readonly duration: Latency } };
}

interface VmPsciState {
  version: number;
}

/** What psci-conduit decorates: the vendor-hyp registry, per-VM PSCI state, the host era and the VM attributes. */
export interface PsciConduitHost extends VendorHypRegistry {
  psciVersion(vm: Vm): number;
  readonly profile: ArmHostProfile;
  /** KVM_SET_DEVICE_ATTR on the VM fd (6.4+: group KVM_ARM_VM_SMCCC_CTRL; before: EINVAL, no VM attributes on arm64). */
  setVmAttr(vm: Vm, attr: KvmVmDeviceAttr): void;
  /** The VMM's KVM_EXIT_HYPERCALL handling for calls the filter forwards. */
  onHypercallExit(vm: Vm, handler: SmcccUserHandler): void;
}

export function psciConduit(opts: PsciConduitOptions = {}): Plugin {
  checkPluginOptions(PSCI_CONDUIT_PLUGIN, opts, {
    psci02: 'boolean', host: { oneOf: Object.keys(ARM_HOST_PROFILES) }, smcFromGuest: { oneOf: ['v6.4', 'pre-v6.4'] }, uid: { oneOf: ['kvm', '6.16-rc'] }, latency: 'object',
  });
  const psci02 = opts.psci02 ?? true;
  const uid = uuidToWords(opts.uid === '6.16-rc' ? ARM_SMCCC_VENDOR_HYP_UID_KVM_6_16_RC : ARM_SMCCC_VENDOR_HYP_UID_KVM);
  return definePlugin({
    name: PSCI_CONDUIT_PLUGIN,
    arch: 'arm64',
    setup(ctx: PluginContext) {
      const profile = opts.host !== undefined ? ARM_HOST_PROFILES[opts.host] : armHostProfileFor(ctx.kernel);
      const smc = opts.smcFromGuest === undefined ? profile.smc : opts.smcFromGuest === 'v6.4' ? 'imm0-like-hvc' : 'refuse';
      const latency = opts.latency;
      // Every trapped call KVM handles takes an exit to EL2 and back.
      const timed = (h: SmcccHandler): SmcccHandler => latency === undefined ? h : (vcpu, x, conduit) => {
        ctx.sim.elapse(drawLatency(ctx.sim.rng, latency.entry));
        const r = h(vcpu, x, conduit);
        ctx.sim.elapse(drawLatency(ctx.sim.rng, latency.exit));
        // Steal time: the host scheduler runs another thread before the vCPU re-enters (no draw without it).
        const st = latency.steal;
        if (st !== undefined && st.probability > 0 && ctx.sim.rng.next() < st.probability) ctx.sim.elapse(drawLatency(ctx.sim.rng, st.duration));
        return r;
      };
      // kvm_hvc_call_handler()'s own cases: on the RFC v4 base `u32 val[4]` zero-extends each value into x0..x3.
      const hvcCase = (h: SmcccHandler): SmcccHandler => timed(profile.returnWidth === 64 ? h : (v, x, c) => h(v, x, c).map((r) => u32(r)));
      const services = new VendorHypServices((s) => ctx.smccc(s.functionId, hvcCase(s.handler)));
      const filters = new SmcccFilters();
      const userHandlers = new WeakMap<Vm, SmcccUserHandler>();
      const psciState = new WeakMap<Vm, VmPsciState>();
      const stateOf = (vm: Vm): VmPsciState => {
        let st = psciState.get(vm);
        if (st === undefined) {
          st = { version: psci02 ? KVM_ARM_PSCI_1_1 : KVM_ARM_PSCI_0_1 };
          psciState.set(vm, st);
        }
        return st;
      };
      const FEAT = KVM_REG_ARM_VENDOR_HYP_BIT_FUNC_FEAT;

      /** models kvm_prepare_hypercall_exit() and the VMM's reply: x0..x3 as the VMM left them. */
      const forward = (vcpu: Vcpu, fid: number, conduit: Conduit): ArmTrapAction => {
        vcpu.countExit('hypercall');
        // A64 instructions are 32-bit, so KVM_HYPERCALL_EXIT_16BIT is never set here.
        const exit = { nr: fid, flags: conduit === 'smc' ? KVM_HYPERCALL_EXIT_SMC : 0, x: vcpu.x.slice(0, 18) };
        return { regs: userHandlers.get(vcpu.vm)?.(exit) ?? vcpu.x.slice(0, 4) };
      };

      // handle_hvc() / handle_smc() (arch/arm64/kvm/handle_exit.c), then the gate of kvm_smccc_call_handler().
      ctx.armTrapPolicy((conduit, imm, vcpu, fid) => {
        // [<6.4] every SMC, [≥6.4] SMC with imm ≠ 0: vcpu_set_reg(vcpu, 0, ~0UL), x0 only.
        if (conduit === 'smc' && (smc === 'refuse' || imm !== 0)) return 'not-supported';
        if (profile.smcccFilter) {
          // models kvm_smccc_get_action(): the filter first, then the bitmaps.
          const action = filters.action(vcpu.vm, fid);
          if (action === KVM_SMCCC_FILTER_DENY) return 'deny';
          if (action === KVM_SMCCC_FILTER_FWD_TO_USER) return forward(vcpu, fid, conduit);
        }
        // [≥5.19] kvm_smccc_test_fw_bmap() / kvm_hvc_call_allowed(): a vendor call whose bit is clear is denied.
        if (profile.bitmapRegister && !services.callAllowed(vcpu.vm, fid)) return 'deny';
        return 'dispatch';
      });

      ctx.smccc(ARM_SMCCC_VERSION_FUNC_ID, hvcCase(() => smcccVersionCall()));
      ctx.smccc(ARM_SMCCC_ARCH_FEATURES_FUNC_ID, hvcCase((_v, x) => smcccArchFeaturesCall(x[1] ?? 0n)));
      // kvm_psci_call(): `unsigned long val` in every era, so PSCI answers stay 64-bit.
      ctx.smccc(PSCI_0_2_FN_PSCI_VERSION, timed((vcpu) => psciVersionCall(stateOf(vcpu.vm).version)));
      ctx.smccc(PSCI_1_0_FN_PSCI_FEATURES, timed((vcpu, x) => psciFeaturesCall(stateOf(vcpu.vm).version, x[1] ?? 0n)));
      ctx.smccc(ARM_SMCCC_VENDOR_HYP_CALL_UID_FUNC_ID, hvcCase(() => [...uid]));
      ctx.smccc(ARM_SMCCC_VENDOR_HYP_KVM_FEATURES_FUNC_ID, hvcCase((vcpu) => {
        switch (profile.features) {
          case 'func-feat-only':
            return [1n << BigInt(FEAT), 0n, 0n, 0n]; // val[0] = BIT(ARM_SMCCC_KVM_FUNC_FEATURES)
          case 'constant':
            return [services.validMask, 0n, 0n, 0n]; // BIT(FEATURES) | BIT(PTP): every service compiled in
          case 'bitmap':
            return [u64(services.bitmap(vcpu.vm)), 0n, 0n, 0n];
        }
      }));

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
      if (profile.bitmapRegister) {
        ctx.oneReg(KVM_REG_ARM_VENDOR_HYP_BMAP, {
          get: (vcpu) => services.bitmap(vcpu.vm),
          set: (vcpu, value) => services.setBitmap(vcpu.vm, value),
        });
      }
      const host: PsciConduitHost = {
        register: (owner, s) => services.register(owner, s),
        bitmap: (vm) => (profile.features === 'bitmap' ? services.bitmap(vm) : services.validMask),
        psciVersion: (vm) => stateOf(vm).version,
        profile,
        setVmAttr: (vm, attr) => {
          // struct kvm_device_attr: __u32 flags, group; __u64 attr, addr (here: the filter itself).
          assertStruct(attr, 'struct kvm_device_attr', 'attr');
          assertU32(attr.group, 'kvm_device_attr.group', 'group');
          if (typeof attr.attr === 'bigint') assertU64(attr.attr, 'kvm_device_attr.attr', 'attr');
          else assertInt(attr.attr, 0, Number.MAX_SAFE_INTEGER, 'kvm_device_attr.attr', 'attr');
          if (attr.filter !== undefined) {
            // struct kvm_smccc_filter { __u32 base; __u32 nr_functions; __u8 action; __u8 pad[15]; }
            assertStruct(attr.filter, 'struct kvm_smccc_filter', 'addr');
            assertU32(attr.filter.base, 'kvm_smccc_filter.base', 'base');
            assertU32(attr.filter.nrFunctions, 'kvm_smccc_filter.nr_functions', 'nrFunctions');
            assertInt(attr.filter.action, 0, 0xff, 'kvm_smccc_filter.action', 'action');
            const pad: unknown = attr.filter.pad;
            if (pad !== undefined && (!Array.isArray(pad) || pad.length > 15 || pad.some((b) => typeof b !== 'number' || !Number.isInteger(b) || b < 0 || b > 0xff))) {
              throw new KvmError('EINVAL', 'kvm_smccc_filter.pad is not 15 bytes', 'pad');
            }
          }
          // kvm_vm_set_attr() exists from 6.4 (e0fc6b21616d); before, KVM_SET_DEVICE_ATTR on an arm64 VM fd is EINVAL.
          if (!profile.smcccFilter) throw new KvmError('EINVAL', 'no VM device attributes on this kernel (added in 6.4)', 'ioctl');
          if (attr.group !== KVM_ARM_VM_SMCCC_CTRL || attr.attr !== KVM_ARM_VM_SMCCC_FILTER) throw new KvmError('ENXIO', `no VM attribute ${attr.group}/${attr.attr}`, 'attr');
          if (attr.filter === undefined) throw new KvmError('EFAULT', 'no struct kvm_smccc_filter at addr', 'addr');
          filters.set(vm, attr.filter);
        },
        onHypercallExit: (vm, handler) => userHandlers.set(vm, handler),
      };
      ctx.decorate(VENDOR_HYP_REGISTRY, host);
    },
  });
}
