/**
 * The userspace SMCCC filter (arch/arm64/kvm/hypercalls.c, 6.4: 821d935c87bc, fb88707dd39b,
 * 5a23ad6510c8): KVM_SET_DEVICE_ATTR on the VM fd, group KVM_ARM_VM_SMCCC_CTRL, attribute
 * KVM_ARM_VM_SMCCC_FILTER, with a struct kvm_smccc_filter; and kvm_smccc_filter_get_action().
 */
import { KvmError, type Vm } from '@kvmlab/hypervisor-core';

export const KVM_ARM_VM_SMCCC_CTRL = 0; // arm64 uapi kvm.h
export const KVM_ARM_VM_SMCCC_FILTER = 0; // arm64 uapi kvm.h
/** enum kvm_smccc_filter_action (arm64 uapi kvm.h). */
export const KVM_SMCCC_FILTER_HANDLE = 0; // arm64 uapi kvm.h
export const KVM_SMCCC_FILTER_DENY = 1; // arm64 uapi kvm.h
export const KVM_SMCCC_FILTER_FWD_TO_USER = 2; // arm64 uapi kvm.h
/** NR_SMCCC_FILTER_ACTIONS: actions ≥ this are EINVAL (arm64 uapi kvm.h). */
export const NR_SMCCC_FILTER_ACTIONS = 3; // arm64 uapi kvm.h
/** kvm_run.hypercall.flags (arm64 uapi kvm.h). */
export const KVM_HYPERCALL_EXIT_SMC = 1 << 0; // arm64 uapi kvm.h
export const KVM_HYPERCALL_EXIT_16BIT = 1 << 1; // arm64 uapi kvm.h
/** KVM_EXIT_HYPERCALL (include/uapi/linux/kvm.h). */
export const KVM_EXIT_HYPERCALL = 3; // include/uapi/linux/kvm.h
/** The SMC32 and SMC64 Arm-architecture ranges KVM keeps to itself (SMC32/64_ARCH_RANGE_BEGIN/END, hypercalls.c). */
export const SMCCC_RESERVED_RANGES: readonly (readonly [number, number])[] = [
  [0x8000_0000, 0x8000_ffff],
  [0xc000_0000, 0xc000_ffff],
];

/** struct kvm_smccc_filter: { u32 base; u32 nr_functions; u8 action; u8 pad[15]; }. */
export interface KvmSmcccFilter {
  readonly base: number;
  readonly nrFunctions: number;
  readonly action: number;
  readonly pad?: readonly number[];
}

/** struct kvm_device_attr for the VM fd (group, attr; addr is the filter). */
export interface KvmVmDeviceAttr {
  readonly group: number;
  readonly attr: number;
  readonly filter?: KvmSmcccFilter;
}

/** What the VMM sees on KVM_EXIT_HYPERCALL (run->hypercall) plus the guest's registers. */
export interface SmcccHypercallExit {
  readonly nr: number;
  readonly flags: number;
  readonly x: readonly bigint[];
}

/** The VMM's answer: x0..x3 it writes before KVM_RUN again (undefined: re-enter with the registers untouched). */
export type SmcccUserHandler = (exit: SmcccHypercallExit) => readonly bigint[] | undefined;

interface Range {
  readonly start: number;
  readonly end: number;
  readonly action: number;
}

/** Per-VM maple tree of ranges, as a sorted list. */
export class SmcccFilters {
  private readonly perVm = new WeakMap<Vm, Range[]>();

  /** models kvm_smccc_set_filter(): pad ≠ 0, end < start or a bad action → EINVAL; after the VM ran → EBUSY; an overlap → EEXIST. */
  set(vm: Vm, f: KvmSmcccFilter): void {
    if ((f.pad ?? []).some((b) => b !== 0)) throw new KvmError('EINVAL', 'kvm_smccc_filter.pad is not zero', 'pad');
    const start = f.base >>> 0;
    const end = (start + (f.nrFunctions >>> 0) - 1) >>> 0; // u32 arithmetic, as in the kernel
    if (end < start || !Number.isInteger(f.action) || f.action < 0 || f.action >= NR_SMCCC_FILTER_ACTIONS) {
      throw new KvmError('EINVAL', `filter [0x${start.toString(16)}, +${f.nrFunctions}) action ${f.action} is invalid`, 'filter');
    }
    if (vm.hasRun) throw new KvmError('EBUSY', 'the SMCCC filter cannot change after the VM has run', 'filter');
    const ranges = this.perVm.get(vm) ?? SMCCC_RESERVED_RANGES.map(([s, e]) => ({ start: s, end: e, action: KVM_SMCCC_FILTER_HANDLE }));
    // mtree_insert_range(): -EEXIST if any index of the range is already stored.
    const hit = ranges.find((r) => r.start <= end && start <= r.end);
    if (hit !== undefined) throw new KvmError('EEXIST', `range overlaps [0x${hit.start.toString(16)}, 0x${hit.end.toString(16)}]`, 'filter');
    ranges.push({ start, end, action: f.action });
    this.perVm.set(vm, ranges);
  }

  /** models kvm_smccc_filter_get_action(): HANDLE when nothing covers the id (or no filter was set). */
  action(vm: Vm, functionId: number): number {
    const ranges = this.perVm.get(vm);
    if (ranges === undefined) return KVM_SMCCC_FILTER_HANDLE;
    return ranges.find((r) => r.start <= functionId && functionId <= r.end)?.action ?? KVM_SMCCC_FILTER_HANDLE;
  }
}
