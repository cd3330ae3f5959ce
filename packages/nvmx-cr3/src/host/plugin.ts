/**
 * nvmxCr3(): the plugin of the CR3 series. It turns on hypervisor-core's nested-VMX engine and
 * fills the GUEST_CR3 hooks of the chosen variant; everything else — the VMX instructions,
 * vmcs01/vmcs02/vmcs12, entry, exit, the HLT squash, the preemption timer — is the engine's, so it
 * composes with any other nested-VMX plugin (kvm-mmu-pml's MMU) in one hypervisor.
 */
import { checkPluginOptions, definePlugin, type NestedVcpu, type Plugin, type Vcpu, X86_CR0_PG } from '@kvmlab/hypervisor-core';
import { guestCr3Hooks, NVMX_VARIANTS, type NvmxVariant } from './guest-cr3.js';

export interface NvmxCr3Options {
  readonly variant?: NvmxVariant;
  /** kvm_intel.ept (default: the kernel's, on). */
  readonly enableEpt?: boolean;
  /** kvm_intel.unrestricted_guest (default on; forced off without EPT, as hardware_setup() does). */
  readonly unrestrictedGuest?: boolean;
  /** Virtual ns per exit handled by L0 (default 1000). */
  readonly exitCostNs?: bigint;
}

/** The plugin's configuration, with the kvm_intel parameters as the engine settled them. */
export interface NvmxConfig {
  readonly variant: NvmxVariant;
  readonly enableEpt: boolean;
  readonly unrestrictedGuest: boolean;
}

/** The service the plugin decorates as 'nvmx-cr3' (kept from before the engine moved into core). */
export interface NvmxService {
  readonly config: NvmxConfig;
  /** The nested state of an x86 vCPU of a hypervisor with this plugin (the engine's). */
  nested(vcpu: Vcpu): NestedVcpu;
  /** KVM_SET_SREGS of L1's CR3 (and CR0.PG: `paging`), then L1 runs (models __set_sregs(), x86.c). */
  setSregs(vcpu: Vcpu, sregs: { readonly cr3: bigint; readonly paging?: boolean }): void;
  /** A device raises an external interrupt at absolute virtual time `at` (KVM_IRQ_LINE → LAPIC). */
  raiseInterrupt(vcpu: Vcpu, vector: number, at: bigint): void;
}

export const NVMX_SERVICE = 'nvmx-cr3';

export function nvmxCr3(opts: NvmxCr3Options = {}): Plugin {
  checkPluginOptions('nvmx-cr3', opts, { variant: { oneOf: NVMX_VARIANTS }, enableEpt: 'boolean', unrestrictedGuest: 'boolean', exitCostNs: { bigintAtLeast: 0n } });
  const explicit = opts.variant;
  if (explicit !== undefined && !NVMX_VARIANTS.includes(explicit)) {
    throw new RangeError(`nvmx-cr3: unknown variant "${String(explicit)}" (${NVMX_VARIANTS.join(' | ')})`);
  }
  const params = {
    ...(opts.enableEpt !== undefined ? { ept: opts.enableEpt } : {}),
    ...(opts.unrestrictedGuest !== undefined ? { unrestrictedGuest: opts.unrestrictedGuest } : {}),
  };
  return definePlugin({
    name: 'nvmx-cr3',
    arch: 'x86_64',
    setup(ctx) {
      // The kernel's variant when createHypervisor was given a kernel (pre-fix before 5.5 / 5.4.3 / 5.3.16).
      const variant = ctx.chooseVariant(explicit, 'merged') as NvmxVariant;
      const api = ctx.nestedVmx({
        params,
        ops: guestCr3Hooks(variant),
        ...(opts.exitCostNs !== undefined ? { exitCostNs: opts.exitCostNs } : {}),
      });
      const config: NvmxConfig = {
        variant,
        get enableEpt() { return api.params.ept; },
        get unrestrictedGuest() { return api.params.unrestrictedGuest; },
      };
      // A vCPU of another hypervisor is the engine's EINVAL (it checks whose vCPU it is).
      const service: NvmxService = {
        config,
        nested: (vcpu) => api.state(vcpu),
        setSregs(vcpu, sregs) {
          const { cr0: now } = api.state(vcpu).vcpu.x86; // validates the vCPU first
          const cr0 = sregs.paging === false ? now & ~X86_CR0_PG : now | X86_CR0_PG;
          api.setSregs(vcpu, { cr3: sregs.cr3, cr0 });
        },
        raiseInterrupt: (vcpu, vector, at) => api.raiseInterrupt(vcpu, vector, at),
      };
      ctx.decorate(NVMX_SERVICE, service);
    },
  });
}
