/**
 * nvmxCr3(): the nested-VMX plugin. It gives every x86 vCPU the nested state (vmcs01, one
 * vmcs02, vmcs12s), emulates L1's VMX instructions (exit reason 'vmx'), advertises VMX in
 * CPUID.1:ECX, and offers a host-side service for VMMs, scenarios and tests.
 */
import {
  CPU_BASED_ACTIVATE_SECONDARY_CONTROLS, CPU_BASED_CR3_LOAD_EXITING, CPU_BASED_CR3_STORE_EXITING, CPU_BASED_HLT_EXITING,
  CPU_BASED_USE_TSC_OFFSETTING, CPU_BASED_VM_EXEC_CONTROL, definePlugin, KvmError, PIN_BASED_EXT_INTR_MASK,
  PIN_BASED_NMI_EXITING, PIN_BASED_VIRTUAL_NMIS, PIN_BASED_VM_EXEC_CONTROL, type Plugin, SECONDARY_EXEC_ENABLE_EPT,
  SECONDARY_EXEC_UNRESTRICTED_GUEST, SECONDARY_VM_EXEC_CONTROL, u64, type Vcpu, writeLe,
} from '@kvmlab/hypervisor-core';
import { X86_CR0_PG } from '../constants.js';
import { NestedVcpu, NVMX_VARIANTS, type NvmxConfig, type NvmxVariant } from './nested-state.js';
import { markCr3Available } from './reg-cache.js';
import { vcpuEnterL1 } from './vcpu-run.js';
import { emulateVmxInsn, VMX_INSN_NAMES, type VmxInsnName } from './vmx-insn.js';
import { scheduleInterrupt } from './wake-sources.js';

export interface NvmxCr3Options {
  readonly variant?: NvmxVariant;
  readonly enableEpt?: boolean;
  readonly unrestrictedGuest?: boolean;
  /** Virtual ns per exit handled by L0 (default 1000). */
  readonly exitCostNs?: bigint;
}

/** The service the plugin decorates as 'nvmx-cr3'. */
export interface NvmxService {
  readonly config: NvmxConfig;
  /** The nested state of an x86 vCPU of a hypervisor with this plugin. */
  nested(vcpu: Vcpu): NestedVcpu;
  /** KVM_SET_SREGS of L1's CR3/CR0 (models __set_sregs(), arch/x86/kvm/x86.c), then L1 is entered. */
  setSregs(vcpu: Vcpu, sregs: { readonly cr3: bigint; readonly paging?: boolean }): void;
  /** A device raises an external interrupt at absolute virtual time `at` (KVM_IRQ_LINE → LAPIC). */
  raiseInterrupt(vcpu: Vcpu, vector: number, at: bigint): void;
}

export const NVMX_SERVICE = 'nvmx-cr3';
/** CPUID.1:ECX.VMX (arch/x86/include/asm/cpufeatures.h X86_FEATURE_VMX = 4*32+5). */
export const CPUID_1_ECX_VMX = 1 << 5; // asm/cpufeatures.h

/** models vmx_vcpu_setup()'s execution controls for vmcs01 (arch/x86/kvm/vmx/vmx.c). */
function setupVmcs01(nv: NestedVcpu): void {
  const c = nv.cfg;
  const v01 = nv.vmcs01;
  v01.vmwrite(PIN_BASED_VM_EXEC_CONTROL, BigInt(PIN_BASED_EXT_INTR_MASK | PIN_BASED_NMI_EXITING | PIN_BASED_VIRTUAL_NMIS));
  let exec = CPU_BASED_HLT_EXITING | CPU_BASED_USE_TSC_OFFSETTING | CPU_BASED_ACTIVATE_SECONDARY_CONTROLS;
  if (!c.enableEpt) exec |= CPU_BASED_CR3_LOAD_EXITING | CPU_BASED_CR3_STORE_EXITING; // shadow paging traps CR3
  v01.vmwrite(CPU_BASED_VM_EXEC_CONTROL, BigInt(exec >>> 0));
  let sec = 0;
  if (c.enableEpt) sec |= SECONDARY_EXEC_ENABLE_EPT;
  if (c.enableEpt && c.unrestrictedGuest) sec |= SECONDARY_EXEC_UNRESTRICTED_GUEST;
  v01.vmwrite(SECONDARY_VM_EXEC_CONTROL, BigInt(sec));
  v01.resetCounts();
}

export function nvmxCr3(opts: NvmxCr3Options = {}): Plugin {
  const variant = opts.variant ?? 'merged';
  if (!NVMX_VARIANTS.includes(variant)) throw new RangeError(`nvmx-cr3: unknown variant "${String(variant)}"`);
  const enableEpt = opts.enableEpt ?? true;
  const config: NvmxConfig = {
    variant,
    enableEpt,
    unrestrictedGuest: enableEpt && (opts.unrestrictedGuest ?? true), // hardware_setup(): no URG without EPT
    exitCostNs: opts.exitCostNs ?? 1000n,
  };
  return definePlugin({
    name: 'nvmx-cr3',
    arch: 'x86_64',
    setup(ctx) {
      const states = new WeakMap<Vcpu, NestedVcpu>();
      const nested = (vcpu: Vcpu): NestedVcpu => {
        const nv = states.get(vcpu);
        if (nv === undefined) throw new KvmError('EINVAL', 'not a vCPU of a hypervisor with nvmx-cr3', 'vcpu');
        return nv;
      };
      ctx.onVcpuCreate((vcpu) => {
        const nv = new NestedVcpu(vcpu, config);
        setupVmcs01(nv);
        states.set(vcpu, nv);
      });
      ctx.onExit('cpuid', (_vcpu, e) => {
        if (e.leaf === 1 && e.data !== undefined) e.data[8] = (e.data[8] ?? 0) | CPUID_1_ECX_VMX;
        return false; // only adds a bit; others may add theirs
      });
      ctx.onExit('vmx', (vcpu, e) => {
        const nv = states.get(vcpu);
        const insn = e['insn'];
        const operand = e['operand'];
        const value = e['value'] ?? 0n;
        const out = e.data;
        if (nv === undefined || typeof insn !== 'string' || !VMX_INSN_NAMES.includes(insn as VmxInsnName)) return false;
        if (typeof operand !== 'bigint' || typeof value !== 'bigint' || out === undefined || out.length < 17) return false;
        const r = emulateVmxInsn(nv, insn as VmxInsnName, u64(operand), u64(value));
        if (r === undefined) return false; // #UD
        writeLe(out, 0, 8, r.value);
        out[8] = Number(r.rflags & 0xffn);
        out[16] = r.hung ? 1 : 0;
        return true;
      });
      const service: NvmxService = {
        config,
        nested,
        setSregs(vcpu, sregs) {
          const nv = nested(vcpu);
          if (nv.guestMode) throw new KvmError('EBUSY', 'setSregs while L2 runs is outside this model', 'vcpu');
          if (typeof sregs.cr3 !== 'bigint' || sregs.cr3 < 0n || sregs.cr3 > 0xffff_ffff_ffff_ffffn) throw new KvmError('EINVAL', 'cr3 must be a u64', 'cr3');
          nv.cr3 = sregs.cr3;
          nv.cr0 = sregs.paging === false ? 0n : X86_CR0_PG;
          markCr3Available(nv);
          nv.requests.add('MMU_RELOAD'); // kvm_mmu_reset_context()
          vcpuEnterL1(nv);
        },
        raiseInterrupt(vcpu, vector, at) {
          const nv = nested(vcpu);
          if (!Number.isInteger(vector) || vector < 32 || vector > 255) throw new KvmError('EINVAL', `vector ${vector} is not an external interrupt vector`, 'vector');
          if (at < ctx.sim.now) throw new KvmError('EINVAL', 'interrupt time is in the past', 'at');
          scheduleInterrupt(nv, vector, at);
        },
      };
      ctx.decorate(NVMX_SERVICE, service);
    },
  });
}
