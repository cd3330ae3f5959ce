/**
 * The nested-VMX engine of one hypervisor: what plugins contributed (module parameters and hooks,
 * checked for conflicts), the per-vCPU state, and the points where the engine meets the rest of
 * the model — the VMX instruction boundary of the vCPU, the VMX capability MSRs and
 * IA32_FEATURE_CONTROL, CPUID.1:ECX.VMX, MOV to CR0/CR4, KVM_CAP_NESTED_STATE and the nested-state
 * ioctls. It exists only when a plugin enables it (DESIGN.md principle 7).
 */
import { leBytes, readLe } from '../../bigint.js';
import { CompositionError, KvmError } from '../../errors.js';
import type { ExitInfo, PluginContext } from '../../plugin/types.js';
import type { Registry } from '../../plugin/registry.js';
import type { Simulation } from '../../sim/simulation.js';
import type { Vcpu } from '../../vcpu/vcpu.js';
import {
  CPUID_1_ECX_VMX, FEATURE_CONTROL_LOCKED, FEATURE_CONTROL_VMXON_ENABLED_OUTSIDE_SMX, MSR_IA32_FEATURE_CONTROL,
  MSR_IA32_VMX_BASIC, MSR_IA32_VMX_VMFUNC,
} from '../x86-regs.js';
import { fixedBitsValid, nestedVmxSetupCtlsMsrs, vmxGetVmxMsr } from './vmx-msrs.js';
import { vmxSetCr0, vmxSetCr4, vmxSetEfer } from './control-regs.js';
import { translateL2Gpa } from './ept12-walk.js';
import { KVM_CAP_NESTED_STATE } from './kvm-constants.js';
import { kvmMmuUnload } from './mmu-roots.js';
import { nestedStateMaxSize, vmxGetNestedState, vmxSetNestedState } from './nested-state.js';
import { NvmxOpsBuilder } from './ops.js';
import { hardwareSetup, KVM_INTEL_DEFAULTS, KVM_INTEL_PARAM_NAMES, type KvmIntelParamName } from './params.js';
import { kvmReadCr3, markCr3Available } from './reg-cache.js';
import type {
  NestedSregs, NestedVcpuState, NestedVmxApi, NestedVmxBoundary, NvmxContribution, NvmxEngineState, NvmxOpName, VmxInstruction,
  VmxInstructionResult,
} from './shapes.js';
import { createNestedVcpu } from './state.js';
import { hardwareExitBookkeeping, vcpuEnterL1, vcpuRunNested } from './vcpu-run.js';
import { setupVmcs01 } from './vmcs01.js';
import { nestedVmxVmexit } from './vmexit.js';
import { VMCS12_SIZE } from './vmcs12-layout.js';
import { Vmcs12 } from './vmcs12.js';
import { emulateVmxInstruction } from './vmx-insn.js';
import { queueNmi, scheduleInterrupt } from './wake-sources.js';

const OWNER = 'hypervisor-core/nested-vmx';
const INSTRUCTIONS: readonly VmxInstruction[] = ['vmxon', 'vmxoff', 'vmclear', 'vmptrld', 'vmptrst', 'vmread', 'vmwrite', 'vmlaunch', 'vmresume', 'invept', 'invvpid'];

export class NestedVmxEngine implements NestedVmxBoundary {
  private readonly builder = new NvmxOpsBuilder();
  private readonly fixed = new Map<KvmIntelParamName, { readonly owner: string; readonly value: boolean }>();
  private engineState: NvmxEngineState | undefined;
  private exitCost: { readonly owner: string; readonly ns: bigint } | undefined;
  private readonly states = new WeakMap<Vcpu, NestedVcpuState>();
  readonly api: NestedVmxApi;

  constructor(private readonly sim: Simulation) {
    const engine = (): NvmxEngineState => this.engine;
    const owners = (): ReadonlyMap<NvmxOpName, string> => this.builder.owners();
    this.api = {
      get params() { return engine().params; },
      get msrs() { return engine().msrs; },
      get opsOwners() { return owners(); },
      state: (vcpu) => this.state(vcpu),
      nestedVmxVmexit: (vcpu, reason, intrInfo, qual) => nestedVmxVmexit(this.state(vcpu), reason, intrInfo, qual),
      hardwareExit: (vcpu) => hardwareExitBookkeeping(this.state(vcpu)),
      setSregs: (vcpu, sregs) => this.setSregs(vcpu, sregs),
      raiseInterrupt: (vcpu, vector, at) => {
        const nv = this.state(vcpu);
        if (!Number.isInteger(vector) || vector < 32 || vector > 255) throw new KvmError('EINVAL', `vector ${vector} is not an external interrupt vector (32–255)`, 'vector');
        if (typeof at !== 'bigint' || at < this.sim.now) throw new KvmError('EINVAL', `interrupt time ${String(at)} is not a bigint at or after now (${this.sim.now})`, 'at');
        scheduleInterrupt(nv, vector, at);
      },
      raiseNmi: (vcpu) => queueNmi(this.state(vcpu)),
      requestUserspaceExit: (vcpu, handler) => {
        const nv = this.state(vcpu);
        if (typeof handler !== 'function') throw new KvmError('EINVAL', 'requestUserspaceExit(vcpu, handler: () => void)', 'handler');
        if (nv.signal !== null) throw new KvmError('EBUSY', `vCPU ${vcpu.id} already has a signal pending`, 'vcpu');
        nv.signal = handler;
        nv.kicked = true; // the signal's IPI kicks the vCPU out of L2 at its next instruction boundary
      },
      signalPending: (vcpu) => this.state(vcpu).signal !== null,
      cancelUserspaceExit: (vcpu) => {
        const nv = this.state(vcpu);
        if (nv.signal === null) return false;
        nv.signal = null; // the kick stays: it may be an interrupt's too, and a spare kick costs one L0 exit
        return true;
      },
      loadProgram: (vm, gpa, program) => {
        if (typeof gpa !== 'bigint' || gpa < 0n || typeof program !== 'function') throw new KvmError('EINVAL', 'loadProgram(vm, gpa: bigint, program: generator function)', 'program');
        const programs = engine().programs;
        let m = programs.get(vm);
        if (m === undefined) programs.set(vm, (m = new Map()));
        m.set(gpa, program);
      },
      runNested: (vcpu) => {
        const nv = this.state(vcpu);
        if (!vcpu.x86.guestMode) return true;
        const ok = vcpuRunNested(nv);
        if (!vcpu.x86.guestMode) vcpuEnterL1(nv);
        return ok;
      },
      vmcs12At: (vcpu, ptr) => {
        const nv = this.state(vcpu);
        if (ptr === nv.currentVmptr && nv.cachedVmcs12 !== null) return nv.cachedVmcs12;
        const mem = vcpu.vm.memory;
        return mem.isMapped(ptr, VMCS12_SIZE) ? new Vmcs12(mem.read(ptr, VMCS12_SIZE)) : undefined;
      },
    };
  }

  private get engine(): NvmxEngineState {
    if (this.engineState === undefined) throw new Error('nested VMX is used before composition finished (model bug)');
    return this.engineState;
  }

  /** A plugin's contribution (during setup). */
  contribute(owner: string, c: NvmxContribution): void {
    if (this.engineState !== undefined) throw new CompositionError('INVALID_PLUGIN', owner, 'nested VMX contributions are only accepted during setup');
    for (const [k, v] of Object.entries(c.params ?? {})) {
      if (!KVM_INTEL_PARAM_NAMES.includes(k as KvmIntelParamName) || typeof v !== 'boolean') {
        throw new CompositionError('INVALID_PLUGIN', owner, `"${k}" is not a kvm_intel parameter (${KVM_INTEL_PARAM_NAMES.join(', ')})`);
      }
      const prev = this.fixed.get(k as KvmIntelParamName);
      if (prev !== undefined && prev.value !== v) {
        throw new CompositionError('DUPLICATE_EXTENSION', owner, `kvm_intel ${k} = ${String(v)} conflicts with ${k} = ${String(prev.value)} fixed by "${prev.owner}"`);
      }
      this.fixed.set(k as KvmIntelParamName, { owner, value: v });
    }
    this.builder.add(owner, c.ops ?? {});
    if (c.exitCostNs !== undefined) {
      if (typeof c.exitCostNs !== 'bigint' || c.exitCostNs < 0n) throw new CompositionError('INVALID_PLUGIN', owner, `exitCostNs must be a bigint ≥ 0, got ${String(c.exitCostNs)}`);
      if (this.exitCost !== undefined && this.exitCost.ns !== c.exitCostNs) {
        throw new CompositionError('DUPLICATE_EXTENSION', owner, `exit cost ${c.exitCostNs} ns conflicts with ${this.exitCost.ns} ns set by "${this.exitCost.owner}"`);
      }
      this.exitCost = { owner, ns: c.exitCostNs };
    }
  }

  /** After every plugin's setup: resolve parameters and hooks, and hook the engine into the hypervisor. */
  finalize(reg: Registry, ctxFor: (owner: string) => Pick<PluginContext, 'onExit' | 'onVcpuCreate'>): void {
    const ops = this.builder.build();
    const requested = { ...KVM_INTEL_DEFAULTS };
    for (const [k, { value }] of this.fixed) requested[k] = value;
    const params = hardwareSetup(requested, ops.pmlAddress !== undefined);
    this.engineState = { params, msrs: nestedVmxSetupCtlsMsrs(params), ops, exitCostNs: this.exitCost?.ns ?? 1000n, programs: new WeakMap() };
    reg.addCapability(OWNER, KVM_CAP_NESTED_STATE, { check: () => nestedStateMaxSize() });
    reg.nestedVmx = this;
    const ctx = ctxFor(OWNER);
    ctx.onVcpuCreate((vcpu) => void this.state(vcpu));
    ctx.onExit('cpuid', (_vcpu, e) => {
      if (e.leaf === 1 && e.data !== undefined) e.data[8] = (e.data[8] ?? 0) | CPUID_1_ECX_VMX;
      return false; // only adds a bit; others may add theirs
    });
    ctx.onExit('rdmsr', (vcpu, e) => this.rdmsr(vcpu, e));
    ctx.onExit('wrmsr', (vcpu, e) => this.wrmsr(vcpu, e));
    ctx.onExit('cr', (vcpu, e) => this.movToCr(vcpu, e));
  }

  /** The nested state of `vcpu`, created with vmcs01 the first time (vmx_create_vcpu()). */
  state(vcpu: Vcpu): NestedVcpuState {
    let nv = this.states.get(vcpu);
    if (nv !== undefined) return nv;
    if (vcpu?.vm?.arch !== 'x86_64') throw new KvmError('EINVAL', 'nested VMX exists only on x86_64 vCPUs', 'vcpu');
    if (vcpu.vm.hv.registry.nestedVmx !== this) throw new KvmError('EINVAL', `vCPU ${vcpu.id} belongs to another hypervisor`, 'vcpu');
    nv = createNestedVcpu(vcpu, this.engine);
    this.states.set(vcpu, nv);
    setupVmcs01(nv);
    vmxSetCr0(nv, vcpu.x86.cr0);
    vmxSetCr4(nv, vcpu.x86.cr4);
    vmxSetEfer(nv, vcpu.x86.efer);
    vcpuEnterL1(nv); // the first KVM_RUN: L1's root is loaded, EPT_POINTER written
    nv.vmcs01.resetCounts();
    nv.vmcs02.resetCounts();
    return nv;
  }

  instruction(vcpu: Vcpu, insn: VmxInstruction, operands: readonly bigint[]): VmxInstructionResult {
    if (!INSTRUCTIONS.includes(insn)) throw new KvmError('EINVAL', `"${String(insn)}" is not a VMX instruction`, 'insn');
    if (!operands.every((o) => typeof o === 'bigint')) throw new KvmError('EINVAL', 'VMX instruction operands are bigint register values', 'operands');
    if (vcpu.x86.guestMode) throw new KvmError('EBUSY', `${insn} from L1 while the vCPU runs L2 (call it from L1's code, not from an exit handler)`, 'vcpu');
    return emulateVmxInstruction(this.state(vcpu), insn, operands[0], operands[1], operands[2]);
  }

  getNestedState(vcpu: Vcpu, buf?: Uint8Array): Uint8Array {
    return vmxGetNestedState(this.state(vcpu), buf);
  }

  setNestedState(vcpu: Vcpu, buf: Uint8Array): void {
    vmxSetNestedState(this.state(vcpu), buf);
  }

  translateL2(vcpu: Vcpu, l2Gpa: bigint, write: boolean): bigint | null {
    return translateL2Gpa(this.state(vcpu), l2Gpa, write);
  }

  private setSregs(vcpu: Vcpu, s: NestedSregs): void {
    const nv = this.state(vcpu);
    if (vcpu.x86.guestMode) throw new KvmError('EBUSY', 'KVM_SET_SREGS while L2 runs is outside this model', 'vcpu');
    for (const [k, v] of Object.entries(s)) {
      if (typeof v !== 'bigint' || v < 0n || v > 0xffff_ffff_ffff_ffffn) throw new KvmError('EINVAL', `sregs.${k} must be a u64 bigint, got ${String(v)}`, k);
    }
    const resetMmu = kvmReadCr3(nv) !== s.cr3;
    vcpu.x86.cr3 = s.cr3;
    markCr3Available(nv);
    nv.loaded = nv.vmcs01;
    if (s.cr0 !== undefined) vmxSetCr0(nv, s.cr0);
    if (s.cr4 !== undefined) vmxSetCr4(nv, s.cr4);
    if (s.efer !== undefined) vmxSetEfer(nv, s.efer);
    if (resetMmu) kvmMmuUnload(nv); // kvm_mmu_reset_context()
    vcpuEnterL1(nv);
  }

  private rdmsr(vcpu: Vcpu, e: ExitInfo): boolean {
    const nv = this.state(vcpu);
    let v: bigint | undefined;
    if (e.msr === MSR_IA32_FEATURE_CONTROL) v = nv.featureControl;
    else if (e.msr !== undefined && e.msr >= MSR_IA32_VMX_BASIC && e.msr <= MSR_IA32_VMX_VMFUNC) v = vmxGetVmxMsr(this.engine.msrs, e.msr);
    if (v === undefined || e.data === undefined) return false;
    e.data.set(leBytes(8, v));
    return true;
  }

  /** vmx_set_msr(): IA32_FEATURE_CONTROL until locked; the VMX capability MSRs are read-only to the guest. */
  private wrmsr(vcpu: Vcpu, e: ExitInfo): boolean {
    if (e.msr !== MSR_IA32_FEATURE_CONTROL || e.data === undefined) return false;
    const nv = this.state(vcpu);
    const value = readLe(e.data, 0, 8);
    const valid = FEATURE_CONTROL_LOCKED | FEATURE_CONTROL_VMXON_ENABLED_OUTSIDE_SMX; // msr_ia32_feature_control_valid_bits
    if ((value & ~valid) !== 0n || ((nv.featureControl & FEATURE_CONTROL_LOCKED) !== 0n && e['hostInitiated'] !== true)) return false;
    nv.featureControl = value;
    return true;
  }

  /** handle_cr() for MOV to CR0/CR4 (always intercepted for the bits KVM owns): vmx_set_cr0/cr4 with the VMX checks. */
  private movToCr(vcpu: Vcpu, e: ExitInfo): boolean {
    const nv = this.state(vcpu);
    const value = e['value'];
    if (typeof value !== 'bigint' || e.data === undefined || vcpu.x86.guestMode) return false;
    const m = this.engine.msrs;
    let ok: boolean;
    if (e['cr'] === 4) {
      ok = !(nv.vmxon && !fixedBitsValid(value, m.cr4Fixed0, m.cr4Fixed1));
      if (ok) vmxSetCr4(nv, value);
    } else if (e['cr'] === 0) {
      ok = !(nv.vmxon && !fixedBitsValid(value, m.cr0Fixed0, m.cr0Fixed1));
      if (ok) vmxSetCr0(nv, value);
    } else {
      return false;
    }
    e.data[0] = ok ? 0 : 1;
    return true;
  }
}

