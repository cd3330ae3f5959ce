/**
 * A hypervisor with the nested-VMX engine and nothing else, one VM with 16 MiB of RAM, and L1s
 * that get into VMX operation with guest instructions only (the core guest library).
 */
import { createHypervisor, type Hypervisor } from '../../src/hypervisor.js';
import { definePlugin } from '../../src/plugin/define-plugin.js';
import type { Vcpu } from '../../src/vcpu/vcpu.js';
import type { Vm } from '../../src/vm/vm.js';
import { assemble, type AsmLine } from '../../src/x86/guest/assembler.js';
import { loadVmcs, prepareForVmxOperation, prepareVmcs, type VmcsSetup } from '../../src/x86/guest/vmx-lib.js';
import type { KvmIntelParams } from '../../src/x86/nested/params.js';
import type { NestedVmxApi, NvmxOps } from '../../src/x86/nested/shapes.js';

export const MIB = 1n << 20n;
/** Where the rig's L1 keeps things (all inside the 16 MiB slot). */
export const L1_CR3 = 0x0010_0000n;
export const VMXON_GPA = 0x0001_0000n;
export const VMCS_GPA = 0x0002_0000n;
export const L2_CODE = 0x0030_0000n;
export const L2_DATA = 0x0040_0000n;

export interface RigOptions {
  readonly params?: Partial<KvmIntelParams>;
  readonly ops?: Partial<NvmxOps>;
  readonly vcpus?: number;
  readonly seed?: number;
  readonly memoryMiB?: bigint;
}

export interface Rig {
  readonly hv: Hypervisor;
  readonly vm: Vm;
  readonly vcpus: Vcpu[];
  readonly vcpu: Vcpu;
  readonly nested: NestedVmxApi;
}

export function nestedPlugin(params: Partial<KvmIntelParams> = {}, ops: Partial<NvmxOps> = {}, name = 'nested') {
  return definePlugin({ name, arch: 'x86_64', setup: (ctx) => void ctx.nestedVmx({ params, ops }) });
}

export function rig(o: RigOptions = {}): Rig {
  const hv = createHypervisor({ arch: 'x86_64', seed: o.seed ?? 1, plugins: [nestedPlugin(o.params, o.ops)] });
  const vm = hv.createVm();
  vm.setUserMemoryRegion({ slot: 0, flags: 0, guestPhysAddr: 0n, memorySize: (o.memoryMiB ?? 16n) * MIB });
  const vcpus = Array.from({ length: o.vcpus ?? 1 }, (_, i) => vm.createVcpu(i));
  const nested = hv.nestedVmx!;
  for (const v of vcpus) nested.setSregs(v, { cr3: L1_CR3 });
  return { hv, vm, vcpus, vcpu: vcpus[0]!, nested };
}

/** VMXON at `vmxon` and a clear, current vmcs12 at `vmcs` prepared by the selftest library. */
export function l1WithVmcs(vcpu: Vcpu, setup: VmcsSetup, vmcs = VMCS_GPA, vmxon = VMXON_GPA): void {
  if (!prepareForVmxOperation(vcpu, vmxon)) throw new Error('VMXON failed');
  if (!loadVmcs(vcpu, vmcs)) throw new Error('VMCLEAR/VMPTRLD failed');
  if (!prepareVmcs(vcpu, setup)) throw new Error('a VMWRITE of prepareVmcs failed');
}

/** L2 machine code at `at`. */
export function l2Code(vcpu: Vcpu, lines: readonly AsmLine[], at = L2_CODE): void {
  vcpu.write(at, assemble(lines));
}
