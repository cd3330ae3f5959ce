/**
 * Test rigs. `rig()` is spec nvmx-pml.md §7's setup on hypervisor-core's nested-VMX engine: slot 0
 * (4 MiB) holds L1's VMX regions and EPT12 (built by the VMM from 0x1c0000, as the selftest
 * library does), slot 1 is 3 pages at 0xc0000000 logging dirty pages, and EPT12 maps L2 page
 * 0xc0001000 onto L1 page 0xc0000000. L1 gets into VMX operation with the core guest library;
 * L2 is a scripted JS guest program: each `l2(...)` call is one nested round trip — L1 executes
 * VMLAUNCH (the first time) or VMRESUME, L2 executes the given stores and loads through the
 * processor (EPT02 under PML), then VMCALLs back to L1.
 */
import {
  bitmapPages,
  createHypervisor,
  EPT_ADDR_MASK,
  EPT_POINTER,
  EptBuilder,
  EXIT_REASON_VMCALL,
  KVM_MEM_LOG_DIRTY_PAGES,
  leBytes,
  loadVmcs,
  prepareForVmxOperation,
  prepareVmcs,
  program,
  readLe,
  VM_EXIT_REASON,
  VMX_EPT_ACCESS_BIT,
  VMX_EPT_DIRTY_BIT,
  vmlaunch,
  vmreadz,
  vmresume,
  vmwrite,
  type ExitInfo,
  type Hypervisor,
  type NestedVmxApi,
  type Vcpu,
  type Vm,
  type VmxOutcome,
} from '@kvmlab/hypervisor-core';
import type { KvmMmuPml } from '../src/host/kvm-mmu.js';
import { kvmMmuOf, kvmMmuPml } from '../src/host/plugin.js';
import type { Variant } from '../src/host/spte.js';
import type { VcpuVmx } from '../src/host/vcpu-vmx.js';

export const L1_PAGE0 = 0xc0000000n;
export const SLOT1 = 1;
export const VMXON_GPA = 0x10000n;
export const VMCS_GPA = 0x11000n;
/** GUEST_RIP of the rig's L2: where its JS program is loaded (never fetched as bytes). */
export const L2_RIP = 0x20000n;
/** Slot-0 page EPT12 maps identity (for L2's ucall struct). */
export const L2_UCALL_PAGE = 0x100000n;
/** Slot-0 page EPT12 maps identity for machine-code L2s (`code` option). */
export const L2_CODE_PAGE = 0x110000n;
export const EPT12_TABLES = 0x1c0000n;

export interface RigOptions {
  readonly enablePml?: boolean;
  readonly eptAd?: boolean;
  /** EPTP12 bit 6 (default true). */
  readonly eptp12Ad?: boolean;
  /** vmcs12 enables EPT (default true). Without it vmcs12.EPT_POINTER still holds EPTP12 (spec case 26). */
  readonly useEpt12?: boolean;
  /** L2 GPA mapped to L1 0xc0000000 (default 0xc0001000). */
  readonly l2Gpa?: bigint;
  /** A/D preset in the EPT12 leaf (default A|D). */
  readonly leafAd?: bigint;
  readonly manualProtect?: boolean;
  /** Slot 0 logs dirty pages too (default false). */
  readonly logSlot0?: boolean;
  /** L2 as machine code at L2_CODE_PAGE instead of the scripted program. */
  readonly code?: Uint8Array;
  /** KVM_EXIT_IO seen by the VMM (vm.onIo). */
  readonly onIo?: (vcpu: Vcpu, exit: ExitInfo) => void;
}

/** What the scripted L2 executes in one run, before its VMCALL. */
export type L2Op =
  | { readonly op: 'store'; readonly gpa: bigint; readonly value: bigint }
  | { readonly op: 'load'; readonly gpa: bigint }
  | { readonly op: 'code'; readonly code: () => program.GuestCode };

export interface Rig {
  readonly hv: Hypervisor;
  readonly vm: Vm;
  readonly vcpu: Vcpu;
  readonly nested: NestedVmxApi;
  readonly m: KvmMmuPml;
  readonly v: VcpuVmx;
  readonly eptp12: bigint;
  /** L1 GPA of the EPT12 leaf entry that maps the L2 page. */
  readonly leafAddr: bigint;
  /** L1 GPAs of the EPT12 table pages (PML4, PDPT, PD, PT) on the leaf's walk. */
  readonly tablePages: readonly bigint[];
  /** Values L2's loads returned, in order. */
  readonly loads: bigint[];
  /** One nested round trip: VMLAUNCH/VMRESUME, L2 runs `ops`, VMCALL; L1 runs again. */
  l2(...ops: L2Op[]): VmxOutcome;
  /** An 8-byte L2 store (one round trip that must end in L2's VMCALL). */
  write(gpa: bigint, value?: bigint): void;
  /** An 8-byte L2 load (one round trip that must end in L2's VMCALL). */
  read(gpa: bigint): bigint;
  /** An 8-byte L1 store (L1 runs on L0's TDP). */
  l1Write(gpa: bigint, value?: bigint, bytes?: 1 | 2 | 4 | 8): void;
  /** KVM_GET_DIRTY_LOG of slot 1 as page numbers. */
  get(): number[];
  /** VM_EXIT_REASON of vmcs12 as L1 reads it. */
  exitReason(): number;
  launched(): boolean;
}

/** Spec §7's setup: slot 1 = 3 pages at 0xc0000000 logging dirty pages; EPT12 in slot 0. */
export function rig(variant: Variant, o: RigOptions = {}): Rig {
  const hv = createHypervisor({ arch: 'x86_64', plugins: [kvmMmuPml({ variant, enablePml: o.enablePml, eptAd: o.eptAd })] });
  const vm = hv.createVm();
  if (o.manualProtect === true) vm.enableManualDirtyLogProtect([1n], 0);
  vm.setUserMemoryRegion({ slot: 0, flags: o.logSlot0 === true ? KVM_MEM_LOG_DIRTY_PAGES : 0, guestPhysAddr: 0n, memorySize: 0x400000n });
  vm.setUserMemoryRegion({ slot: SLOT1, flags: KVM_MEM_LOG_DIRTY_PAGES, guestPhysAddr: L1_PAGE0, memorySize: 3n * 4096n });
  const vcpu = vm.createVcpu(0);
  const nested = hv.nestedVmx;
  if (nested === undefined) throw new Error('kvm-mmu-pml did not enable nested VMX');
  if (o.onIo !== undefined) vm.onIo = o.onIo;
  let next = EPT12_TABLES;
  const ept = new EptBuilder(vm.memory, () => (next += 0x1000n) - 0x1000n);
  const ad = VMX_EPT_ACCESS_BIT | VMX_EPT_DIRTY_BIT;
  const leafAddr = ept.map4k(o.l2Gpa ?? 0xc0001000n, L1_PAGE0, 7n, o.leafAd ?? ad);
  ept.map4k(L2_UCALL_PAGE, L2_UCALL_PAGE, 7n, ad);
  ept.map4k(L2_CODE_PAGE, L2_CODE_PAGE, 7n, ad);
  const eptp12 = ept.eptp(o.eptp12Ad ?? true);
  // The walk's table pages: PML4, then each level's table from the entry above.
  const tablePages: bigint[] = [ept.pml4];
  for (let level = 4; level > 1; level--) {
    const idx = ((o.l2Gpa ?? 0xc0001000n) >> (12n + 9n * BigInt(level - 1))) & 0x1ffn;
    tablePages.push(vm.memory.readU64(tablePages[tablePages.length - 1]! + idx * 8n) & EPT_ADDR_MASK);
  }
  const m = kvmMmuOf(vm);
  const v = m.vcpuVmx(vcpu);

  // The scripted L2: the ops of the current run, then VMCALL; forever.
  let queue: L2Op[] = [];
  const loads: bigint[] = [];
  function* l2Program(): program.GuestCode {
    for (;;) {
      for (let op = queue.shift(); op !== undefined; op = queue.shift()) {
        if (op.op === 'store') yield* program.store64(op.gpa, op.value);
        else if (op.op === 'load') loads.push(yield* program.load64(op.gpa));
        else yield* op.code();
      }
      yield program.vmcall();
    }
  }
  if (o.code !== undefined) vm.memory.write(L2_CODE_PAGE, o.code);
  else nested.loadProgram(vm, L2_RIP, l2Program);

  // L1: VMXON, a current vmcs12 described by the selftest library.
  if (!prepareForVmxOperation(vcpu, VMXON_GPA) || !loadVmcs(vcpu, VMCS_GPA)) throw new Error('L1 could not enter VMX operation');
  const useEpt12 = o.useEpt12 !== false;
  if (!prepareVmcs(vcpu, { guestRip: o.code !== undefined ? L2_CODE_PAGE : L2_RIP, guestRsp: L2_UCALL_PAGE + 0x1000n, ...(useEpt12 ? { eptp: eptp12 } : {}) })) {
    throw new Error('prepareVmcs failed');
  }
  if (!useEpt12 && vmwrite(vcpu, EPT_POINTER, eptp12).status !== 'ok') throw new Error('VMWRITE EPT_POINTER failed');

  let launched = false;
  const run = (ops: readonly L2Op[]): VmxOutcome => {
    queue = [...ops];
    const r = launched ? vmresume(vcpu) : vmlaunch(vcpu);
    if (r.status === 'ok') launched = true;
    return r;
  };
  const exitReason = (): number => Number(vmreadz(vcpu, VM_EXIT_REASON) & 0xffffn);
  const roundTrip = (ops: readonly L2Op[]): void => {
    const r = run(ops);
    if (r.status !== 'ok' || exitReason() !== EXIT_REASON_VMCALL) throw new Error(`L2 run did not end in VMCALL: ${JSON.stringify({ status: r.status, reason: exitReason() })}`);
  };
  return {
    hv,
    vm,
    vcpu,
    nested,
    m,
    v,
    eptp12,
    leafAddr,
    tablePages,
    loads,
    l2: (...ops) => run(ops),
    write: (gpa, value = 1n) => roundTrip([{ op: 'store', gpa, value }]),
    read: (gpa) => {
      roundTrip([{ op: 'load', gpa }]);
      return loads[loads.length - 1]!;
    },
    l1Write: (gpa, value = 1n, bytes = 8) => {
      if (vcpu.x86.guestMode) throw new Error('L1 store while L2 runs');
      vcpu.write(gpa, leBytes(bytes, value));
    },
    get: () => bitmapPages(vm.getDirtyLog(SLOT1)),
    exitReason,
    launched: () => launched,
  };
}

export const exitsOf = (v: VcpuVmx, reason: number): number => v.exits.byReason.get(reason) ?? 0;

/** Reads a u64 from guest memory as the host sees it. */
export const peek64 = (vm: Vm, gpa: bigint): bigint => readLe(vm.memory.read(gpa, 8), 0, 8);
