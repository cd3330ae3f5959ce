/**
 * tools/testing/selftests/kvm/x86_64/vmx_dirty_log_test.c (Paolo Bonzini, Sept 2019) on the
 * model, step by step: slot 1 of 3 pages at 0xc0000000 logs dirty pages; EPT12 maps the L2
 * pages 0xc0001000 and 0xc0002000 both to L1 0xc0000000; before each run the host fills the
 * slot with 0xaa; at every GUEST_SYNC the host takes the dirty log and checks it.
 */
import {
  assemble,
  bitmapPages,
  createHypervisor,
  definePlugin,
  EptBuilder,
  EXIT_REASON_VMCALL,
  KVM_MEM_LOG_DIRTY_PAGES,
  loadVmcs,
  makeEptp,
  prepareForVmxOperation,
  prepareVmcs,
  readLe,
  VM_EXIT_REASON,
  VMX_EPT_ACCESS_BIT,
  VMX_EPT_DIRTY_BIT,
  vmlaunch,
  vmreadz,
  type AsmLine,
  type TraceEvent,
  type Vcpu,
  type Vm,
} from '@kvmlab/hypervisor-core';
import {
  GUEST_TEST_MEM,
  KVM_EPT_PAGE_TABLE_MIN_PADDR,
  NESTED_TEST_MEM1,
  NESTED_TEST_MEM2,
  TEST_MEM_PAGES,
  TEST_MEM_SLOT_INDEX,
  UCALL_ABORT,
  UCALL_DONE,
  UCALL_SYNC,
} from '../constants.js';
import { eptAdOffered } from './nested-guest.js';
import { assertHolds, syncAsserts, type SelftestAssert } from './selftest-assert.js';
import { getUcall, guestDone, guestSync, guestSyncAsm, ucall } from '../guest/ucall.js';
import { kvmMmuPml, kvmMmuOf } from '../host/plugin.js';
import { spteKindName, spteKinds, type Variant } from '../host/spte.js';

/** Slot 0's guest pages the test uses (identity-mapped in EPT12, as nested_map_memslot() does). */
const VMXON_GPA = 0x10000n;
const VMCS_GPA = 0x11000n;
const L1_UCALL = 0x101000n;
const L2_UCALL = 0x100000n;
const L2_CODE = 0x110000n;
const L2_STACK_TOP = 0x120000n;
const SLOT0_BYTES = 0x400000n;

export interface SelftestOptions {
  readonly variant: Variant;
  readonly enablePml?: boolean;
  /** L0 ept_ad; L1 sets EPTP12 A/D iff L0 offers it (IA32_VMX_EPT_VPID_CAP bit 21). */
  readonly eptAd?: boolean;
  readonly seed?: number;
  readonly trace?: boolean;
}

export interface SyncRecord {
  readonly sync: number;
  readonly where: 'L1' | 'L2';
  /** uc.args[1]: the guest says page 0 must be dirty. */
  readonly expectDirty: boolean;
  /** Pages of slot 1 the dirty log reported. */
  readonly dirtyPages: readonly number[];
  /** First qword of each page after the run. */
  readonly qwords: readonly string[];
  /** Per page of slot 1: whether the test's checks require its dirty bit set (page 0 when expectDirty). */
  readonly expectedDirty: readonly boolean[];
  readonly passed: boolean;
  /** The first failed TEST_ASSERT's message. */
  readonly failure?: string;
  /** The page of slot 1 that assertion is about. */
  readonly failedPage?: number;
  /** The failed TEST_ASSERT: its line in the v5.4 test, expression and message. */
  readonly assertion?: SelftestAssert;
  /** L2's stores since the previous sync (L2 GPAs, hex), as the MMU saw them. */
  readonly l2Stores: readonly string[];
  /** The GPAs PML logged and KVM flushed since the previous sync (hex): an L2 GPA taken for an L1 gfn is the bug. */
  readonly pmlEntries: readonly string[];
  /** Every SPTE that maps a page of slot 1 at the sync: table kind, input gfn, SPTE kind. */
  readonly spteKinds: readonly string[];
}

export interface SelftestReport {
  readonly syncs: readonly SyncRecord[];
  readonly done: boolean;
  readonly failedAt?: number;
  readonly exits: Readonly<Record<string, number>>;
  readonly eptViolations: number;
  readonly pmlEntriesLogged: number;
  readonly trace?: readonly TraceEvent[];
}

class TestAbort extends Error {}

// The L2 code of the test (machine code in slot 0, fetched through EPT12).
function l2GuestCode(): Uint8Array {
  const store = (gpa: bigint): AsmLine => ({ op: 'store', gpa, value: 1n });
  return assemble([
    { op: 'load', gpa: NESTED_TEST_MEM1 }, // READ_ONCE(*(u64 *)NESTED_TEST_MEM1)
    store(NESTED_TEST_MEM1),
    ...guestSyncAsm(L2_UCALL, true),
    ...guestSyncAsm(L2_UCALL, false),
    store(NESTED_TEST_MEM2),
    ...guestSyncAsm(L2_UCALL, true),
    store(NESTED_TEST_MEM2),
    ...guestSyncAsm(L2_UCALL, true),
    ...guestSyncAsm(L2_UCALL, false),
    { op: 'vmcall' }, // exit to L1 and never come back
    { op: 'hlt' },
  ]);
}

// The L1 code of the test: prepare_for_vmx_operation(), load_vmcs(), prepare_vmcs() with EPT,
// GUEST_SYNC, VMLAUNCH (which returns when L2 has VMCALLed), GUEST_SYNC, the exit-reason check.
function l1GuestCode(vcpu: Vcpu, eptPml4: bigint): void {
  if (!prepareForVmxOperation(vcpu, VMXON_GPA) || !loadVmcs(vcpu, VMCS_GPA)) return ucall(vcpu, L1_UCALL, UCALL_ABORT, [0n, 1n]);
  // init_vmcs_control_fields(): EPTP with A/D iff IA32_VMX_EPT_VPID_CAP offers them
  const eptp = makeEptp(eptPml4, eptAdOffered(vcpu));
  if (!prepareVmcs(vcpu, { guestRip: L2_CODE, guestRsp: L2_STACK_TOP, eptp })) return ucall(vcpu, L1_UCALL, UCALL_ABORT, [0n, 2n]);
  guestSync(vcpu, L1_UCALL, false);
  if (vmlaunch(vcpu).status !== 'ok') return ucall(vcpu, L1_UCALL, UCALL_ABORT, [0n, 3n]);
  guestSync(vcpu, L1_UCALL, false);
  if (vmreadz(vcpu, VM_EXIT_REASON) !== BigInt(EXIT_REASON_VMCALL)) return ucall(vcpu, L1_UCALL, UCALL_ABORT, [0n, 4n]);
  guestDone(vcpu, L1_UCALL);
}

// prepare_eptp() + nested_map_memslot(slot 0) + the two nested_map() aliases, by the host: returns the PML4
function buildEpt12(vm: Vm): bigint {
  let next = KVM_EPT_PAGE_TABLE_MIN_PADDR;
  const mem = vm.memory;
  const ept = new EptBuilder(mem, () => {
    const pa = next;
    next += 0x1000n;
    return pa;
  });
  const ad = VMX_EPT_ACCESS_BIT | VMX_EPT_DIRTY_BIT; // the library presets A and D in leaves
  for (let pa = 0n; pa < KVM_EPT_PAGE_TABLE_MIN_PADDR; pa += 0x1000n) ept.map4k(pa, pa, 7n, ad);
  ept.map4k(NESTED_TEST_MEM1, GUEST_TEST_MEM, 7n, ad);
  ept.map4k(NESTED_TEST_MEM2, GUEST_TEST_MEM, 7n, ad);
  return ept.pml4;
}

export function runVmxDirtyLogTest(o: SelftestOptions): SelftestReport {
  const syncs: SyncRecord[] = [];
  let done = false;
  // What the MMU did between two syncs (observers: they change nothing).
  let l2Stores: string[] = [];
  let pmlEntries: string[] = [];
  const hex = (v: bigint | number): string => `0x${v.toString(16)}`;
  const slot1Sptes = (vm: Vm): string[] => {
    const m = kvmMmuOf(vm);
    const k = spteKinds(m.cfg.variant);
    const out: string[] = [];
    for (let p = 0; p < TEST_MEM_PAGES; p++) {
      for (const sp of m.rmap.get(Number(GUEST_TEST_MEM >> 12n) + p)) out.push(`${sp.table.kind} ${hex(sp.inGfn)}→${hex(sp.gfn)}: ${spteKindName(k, sp.value)}`);
    }
    return out;
  };
  // The test's main loop body after each KVM_EXIT_IO, as a VMM exit handler.
  const onUcall = (vcpu: Vcpu): void => {
    const u = getUcall(vcpu);
    const v = vcpu.vm;
    if (u.cmd === UCALL_ABORT) throw new TestAbort(`guest assertion ${u.args[1] ?? 0n} failed`);
    if (u.cmd === UCALL_DONE) {
      done = true;
      return;
    }
    if (u.cmd !== UCALL_SYNC) throw new TestAbort(`Unknown ucall ${u.cmd}`);
    const bmap = v.getDirtyLog(TEST_MEM_SLOT_INDEX);
    const q = [0n, 1n, 2n].map((p) => readLe(v.memory.read(GUEST_TEST_MEM + p * 4096n, 8), 0, 8));
    const bit = (i: number): boolean => ((bmap[i >> 3]! >> (i & 7)) & 1) === 1;
    const expectDirty = (u.args[1] ?? 0n) !== 0n;
    // the first TEST_ASSERT that fails, in the test's order
    const failed = syncAsserts(expectDirty).find((a) => !assertHolds(a, bit, q));
    const failure = failed?.message;
    syncs.push({
      sync: syncs.length + 1,
      where: vcpu.x86.guestMode ? 'L2' : 'L1',
      expectDirty,
      dirtyPages: bitmapPages(bmap).filter((p) => p < TEST_MEM_PAGES),
      qwords: q.map((x) => `0x${x.toString(16)}`),
      expectedDirty: [expectDirty, false, false],
      passed: failure === undefined,
      ...(failed !== undefined ? { failure: failed.message, failedPage: failed.page, assertion: failed } : {}),
      l2Stores,
      pmlEntries,
      spteKinds: slot1Sptes(v),
    });
    l2Stores = [];
    pmlEntries = [];
    if (v.hv.trace.enabled) v.hv.trace.instant(vcpu.track, `sync ${syncs.length}: ${failure ?? 'pass'}`, v.hv.sim.now, { dirty: `{${bitmapPages(bmap).join(',')}}` });
    if (failure !== undefined) throw new TestAbort(failure);
    v.memory.fill(GUEST_TEST_MEM, TEST_MEM_PAGES * 4096, 0xaa); // memset before the next run
  };
  const vmm = definePlugin({
    name: 'vmx-dirty-log-test-vmm',
    requires: ['kvm-mmu-pml'],
    setup(ctx) {
      ctx.onExit('io', (vcpu) => {
        onUcall(vcpu);
        return true;
      });
    },
  });
  const eptAd = o.eptAd ?? true;
  const hv = createHypervisor({
    arch: 'x86_64',
    seed: o.seed ?? 0,
    plugins: [kvmMmuPml({ variant: o.variant, enablePml: o.enablePml, eptAd }), vmm],
  });
  hv.trace.enabled = o.trace === true;
  const vm = hv.createVm();
  vm.setUserMemoryRegion({ slot: 0, flags: 0, guestPhysAddr: 0n, memorySize: SLOT0_BYTES });
  const vcpu = vm.createVcpu(1);
  vm.setUserMemoryRegion({
    slot: TEST_MEM_SLOT_INDEX,
    flags: KVM_MEM_LOG_DIRTY_PAGES,
    guestPhysAddr: GUEST_TEST_MEM,
    memorySize: BigInt(TEST_MEM_PAGES) * 4096n,
  });
  vm.memory.write(L2_CODE, l2GuestCode()); // the test's image: L2's code in slot 0
  const watched = kvmMmuOf(vm).observers;
  watched.guestStore = (_v, gpa, l2) => {
    if (l2) l2Stores.push(hex(gpa));
  };
  watched.pmlFlush = (_v, gpas) => {
    for (const g of gpas) pmlEntries.push(hex(g));
  };
  const eptPml4 = buildEpt12(vm);
  vm.memory.fill(GUEST_TEST_MEM, TEST_MEM_PAGES * 4096, 0xaa);
  try {
    l1GuestCode(vcpu, eptPml4);
  } catch (e) {
    if (!(e instanceof TestAbort)) throw e;
  }
  const m = kvmMmuOf(vm);
  const v = m.vcpuVmx(vcpu);
  const failed = syncs.find((s) => !s.passed);
  return {
    syncs,
    done,
    ...(failed !== undefined ? { failedAt: failed.sync } : {}),
    exits: { ...vcpu.stats.exits },
    eptViolations: v.exits.byReason.get(48) ?? 0,
    pmlEntriesLogged: v.exits.pmlEntriesLogged,
    ...(o.trace === true ? { trace: hv.trace.events } : {}),
  };
}
