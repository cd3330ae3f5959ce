/**
 * tools/testing/selftests/kvm/x86_64/vmx_dirty_log_test.c (Paolo Bonzini, Sept 2019) on the
 * model, step by step: slot 1 of 3 pages at 0xc0000000 logs dirty pages; EPT12 maps the L2
 * pages 0xc0001000 and 0xc0002000 both to L1 0xc0000000; before each run the host fills the
 * slot with 0xaa; at every GUEST_SYNC the host takes the dirty log and checks it.
 */
import {
  bitmapPages,
  createHypervisor,
  CPU_BASED_ACTIVATE_SECONDARY_CONTROLS,
  CPU_BASED_VM_EXEC_CONTROL,
  definePlugin,
  EPT_POINTER,
  EptBuilder,
  EXIT_REASON_VMCALL,
  KVM_MEM_LOG_DIRTY_PAGES,
  leBytes,
  readLe,
  SECONDARY_EXEC_ENABLE_EPT,
  SECONDARY_VM_EXEC_CONTROL,
  VM_EXIT_REASON,
  VMX_EPT_ACCESS_BIT,
  VMX_EPT_DIRTY_BIT,
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
import { guestDone, guestSync, ucall, type UcallArgs } from '../guest/ucall.js';
import { l2Vmcall, vmlaunch, vmreadz, vmwrite } from '../guest/vmx.js';
import { kvmMmuPml, kvmMmuOf } from '../host/plugin.js';
import type { Variant } from '../host/spte.js';

const PATTERN = 0xaaaaaaaaaaaaaaaan;
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
  readonly passed: boolean;
  /** The first failed TEST_ASSERT's message. */
  readonly failure?: string;
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

// The L2 code of the test.
function l2GuestCode(vcpu: Vcpu): void {
  vcpu.read(NESTED_TEST_MEM1, 8);
  vcpu.write(NESTED_TEST_MEM1, leBytes(8, 1n));
  guestSync(vcpu, true);
  guestSync(vcpu, false);
  vcpu.write(NESTED_TEST_MEM2, leBytes(8, 1n));
  guestSync(vcpu, true);
  vcpu.write(NESTED_TEST_MEM2, leBytes(8, 1n));
  guestSync(vcpu, true);
  guestSync(vcpu, false);
  l2Vmcall(vcpu); // exit to L1 and never come back
}

// The L1 code of the test: prepare_vmcs() with EPT, GUEST_SYNC, VMLAUNCH, GUEST_SYNC, check.
function l1GuestCode(vcpu: Vcpu, eptp: bigint): void {
  vmwrite(vcpu, CPU_BASED_VM_EXEC_CONTROL, BigInt(CPU_BASED_ACTIVATE_SECONDARY_CONTROLS));
  vmwrite(vcpu, SECONDARY_VM_EXEC_CONTROL, BigInt(SECONDARY_EXEC_ENABLE_EPT));
  vmwrite(vcpu, EPT_POINTER, eptp);
  guestSync(vcpu, false);
  if (vmlaunch(vcpu).status !== 'succeed') return ucall(vcpu, UCALL_ABORT, [0n, 1n]);
  l2GuestCode(vcpu);
  guestSync(vcpu, false);
  if (vmreadz(vcpu, VM_EXIT_REASON) !== BigInt(EXIT_REASON_VMCALL)) return ucall(vcpu, UCALL_ABORT, [0n, 2n]);
  guestDone(vcpu);
}

// prepare_eptp() + nested_map_memslot(slot 0) + the two nested_map() aliases, by the host
function buildEpt12(vm: Vm, eptAd: boolean): bigint {
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
  return ept.eptp(eptAd);
}

export function runVmxDirtyLogTest(o: SelftestOptions): SelftestReport {
  const syncs: SyncRecord[] = [];
  let done = false;
  // The test's main loop body after each KVM_EXIT_IO, as a VMM exit handler.
  const onUcall = (vcpu: Vcpu, u: UcallArgs): void => {
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
    const checks: [boolean, string][] = expectDirty
      ? [[bit(0), 'Page 0 incorrectly reported clean'], [q[0] === 1n, 'Page 0 not written by guest']]
      : [[!bit(0), 'Page 0 incorrectly reported dirty'], [q[0] === PATTERN, 'Page 0 written by guest']];
    checks.push([!bit(1), 'Page 1 incorrectly reported dirty'], [q[1] === PATTERN, 'Page 1 written by guest']);
    checks.push([!bit(2), 'Page 2 incorrectly reported dirty'], [q[2] === PATTERN, 'Page 2 written by guest']);
    const failure = checks.find(([ok]) => !ok)?.[1];
    syncs.push({
      sync: syncs.length + 1,
      where: vcpu.x86.guestMode ? 'L2' : 'L1',
      expectDirty,
      dirtyPages: bitmapPages(bmap).filter((p) => p < TEST_MEM_PAGES),
      qwords: q.map((x) => `0x${x.toString(16)}`),
      passed: failure === undefined,
      ...(failure !== undefined ? { failure } : {}),
    });
    if (v.hv.trace.enabled) v.hv.trace.instant(vcpu.track, `sync ${syncs.length}: ${failure ?? 'pass'}`, v.hv.sim.now, { dirty: `{${bitmapPages(bmap).join(',')}}` });
    if (failure !== undefined) throw new TestAbort(failure);
    v.memory.fill(GUEST_TEST_MEM, TEST_MEM_PAGES * 4096, 0xaa); // memset before the next run
  };
  const vmm = definePlugin({
    name: 'vmx-dirty-log-test-vmm',
    requires: ['kvm-mmu-pml'],
    setup(ctx) {
      ctx.onExit('io', (vcpu, exit) => {
        onUcall(vcpu, exit.ucall as UcallArgs);
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
  const eptp = buildEpt12(vm, eptAd);
  vm.memory.fill(GUEST_TEST_MEM, TEST_MEM_PAGES * 4096, 0xaa);
  try {
    l1GuestCode(vcpu, eptp);
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
