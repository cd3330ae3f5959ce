/**
 * Runs ABI script steps against the running kernel through /dev/kvm: a fresh VM per script,
 * anonymous MAP_NORESERVE memory behind every memslot, guest writes by generated x86 code run
 * with KVM_RUN. Results use the same shape (and errno names) as the model's.
 */
import { KVM_CAP_NR_MEMSLOTS } from '@kvmlab/hypervisor-core';
import { KVM_EXIT_HLT, KVM_EXIT_MMIO } from '../ffi/kvm-abi.js';
import { KvmSystem, type KvmVm } from '../ffi/kvm.js';
import type { HostMapping } from '../ffi/mapping.js';
import type { KvmVcpu } from '../ffi/vcpu.js';
import type { GuestMode } from '../guest/codegen.js';
import { generateWrmsrCode } from '../guest/codegen.js';
import { runGuestCode, runGuestWrites } from '../guest/run-guest.js';
import { newKvmclockMemo, runKvmclockCall, type KvmclockPort } from './kvmclock-port.js';
import { outcome, type AbiTarget } from './model-target.js';
import { bitmapToRanges, bytesToHex, guestWriteList, rangesToBitmap, u64, type Step, type StepBody, type StepResult } from './script.js';

interface SlotState {
  gpa: bigint;
  size: bigint;
  flags: number;
  /** Undefined for a slot too large to back (it is only ever expected to be refused). */
  mem: HostMapping | undefined;
}

/** Slots above this size get no memory: the address below is passed, never touched. */
const MAX_BACKED = 1n << 40n;
const UNBACKED_ADDR = 1n << 44n;

export class KernelTarget implements AbiTarget {
  readonly kind = 'kernel';
  readonly sys: KvmSystem;
  readonly vm: KvmVm;
  /** Mode the generated guest code runs in. */
  readonly mode: GuestMode;
  private readonly slots = new Map<number, SlotState>();
  private readonly usedIds = new Set<number>();
  private vcpu: KvmVcpu | undefined;
  private readonly vcpuIds = new Set<number>();

  private readonly ownsSys: boolean;
  private readonly kvmclockMemo = newKvmclockMemo();
  private hostKhz: bigint | undefined;

  constructor(opts: { sys?: KvmSystem; mode?: GuestMode } = {}) {
    this.ownsSys = opts.sys === undefined;
    this.sys = opts.sys ?? KvmSystem.open();
    this.vm = this.sys.createVm();
    this.mode = opts.mode ?? 'flat32';
  }

  run(step: Step): StepResult {
    switch (step.op) {
      case 'checkExtension':
        return outcome(() => (step.on === 'system' ? this.sys.checkExtension(step.cap) : this.vm.checkExtension(step.cap)));
      case 'enableCap':
        return outcome(() => this.vm.enableCap(step.cap, (step.args ?? []).map(u64), step.flags ?? 0));
      case 'setMemslot':
        return outcome(() => this.setMemslot(step.slot >>> 0, step.flags, u64(step.gpa), u64(step.size)));
      case 'createVcpu':
        return outcome(() => {
          const v = this.vm.createVcpu(step.id);
          this.vcpuIds.add(step.id);
          this.vcpu ??= v;
        });
      case 'guestWrite':
        return outcome(() => this.guestWrite(step));
      case 'getDirtyLog':
        return outcome(() => {
          const s = this.slots.get(step.slot >>> 0);
          const npages = s === undefined ? 64 : Number(s.size >> 12n);
          return { ret: 0, errno: null, bitmap: bitmapToRanges(this.vm.getDirtyLog(step.slot, npages)) };
        });
      case 'clearDirtyLog':
        return outcome(() => {
          const bytes = Math.ceil(step.numPages / 64) * 8;
          const bitmap = step.bits === null ? null : rangesToBitmap(step.bits, Math.max(bytes, 8));
          this.vm.clearDirtyLog({ slot: step.slot, firstPage: u64(step.firstPage), numPages: step.numPages, bitmap });
        });
      case 'readMemory':
        return outcome(() => ({ ret: 0, errno: null, bytes: bytesToHex(this.readGuest(u64(step.gpa), step.length)) }));
      case 'kvmclock':
        return outcome(() => {
          const r = runKvmclockCall(this.kvmclockPort(), this.kvmclockMemo, step.call);
          return { ret: r.ret, errno: null, ...(r.facts !== undefined ? { facts: r.facts } : {}) };
        });
    }
  }

  /** The host TSC rate: KVM_GET_TSC_KHZ of a vCPU in a throwaway VM (a vCPU here would count). */
  hostTscKhz(): bigint {
    if (this.hostKhz === undefined) {
      const vm = this.sys.createVm();
      try {
        this.hostKhz = vm.createVcpu(0).getTscKhz();
      } finally {
        vm.close();
      }
    }
    return this.hostKhz;
  }

  private kvmclockVcpu(): KvmVcpu {
    if (this.vcpu === undefined) throw new Error('a kvmclock step needs a createVcpu step first');
    return this.vcpu;
  }

  private kvmclockPort(): KvmclockPort {
    const hostTscKhz = this.hostTscKhz();
    return {
      hostTscKhz,
      realtimeNs: () => BigInt(Date.now()) * 1_000_000n,
      setMsrs: (m) => this.kvmclockVcpu().setMsrs(m),
      getMsrs: (ix) => this.kvmclockVcpu().getMsrs(ix),
      run: (wrmsrs) => {
        const occupied = [...this.slots.entries()].filter(([k]) => k >>> 16 === 0).map(([, s]) => ({ gpa: s.gpa, size: s.size }));
        const r = runGuestCode(this.vm, this.kvmclockVcpu(), 'flat32', generateWrmsrCode(wrmsrs), this.codeSlotId(), occupied);
        if (r.exitReason !== KVM_EXIT_HLT) throw new Error(`kvmclock guest stopped with exit reason ${r.exitReason}, not HLT`);
      },
      getClock: () => this.vm.getClock(),
      setClock: (d) => this.vm.setClock(d),
      kvmclockCtrl: () => this.kvmclockVcpu().kvmclockCtrl(),
      setTscKhz: (k) => this.kvmclockVcpu().setTscKhz(k),
      getTscKhz: () => this.kvmclockVcpu().getTscKhz(),
      readMemory: (gpa, n) => this.readGuest(gpa, n),
    };
  }

  /** KVM_SET_USER_MEMORY_REGION with host memory managed like a VMM does. */
  private setMemslot(slot: number, flags: number, gpa: bigint, size: bigint): void {
    const old = this.slots.get(slot);
    // A modified slot must keep its userspace_addr; a new one gets fresh memory.
    const reuse = old !== undefined && (size === 0n || size === old.size);
    const mem = reuse ? old.mem : size > 0n && size <= MAX_BACKED ? this.vm.mapAnonymous(size) : undefined;
    const addr = mem?.addr ?? (size > MAX_BACKED ? UNBACKED_ADDR : 0n);
    try {
      this.vm.setUserMemoryRegion({ slot, flags, guestPhysAddr: gpa, memorySize: size, userspaceAddr: addr });
    } catch (e) {
      if (!reuse && mem !== undefined) this.vm.unmap(mem);
      throw e;
    }
    this.usedIds.add(slot & 0xffff);
    if (size === 0n) {
      if (old?.mem !== undefined) this.vm.unmap(old.mem);
      this.slots.delete(slot);
    } else {
      this.slots.set(slot, { gpa, size, flags, mem });
    }
  }

  private guestWrite(step: Extract<StepBody, { op: 'guestWrite' }>): number {
    if (this.vcpu === undefined) {
      let id = 0;
      while (this.vcpuIds.has(id)) id++;
      this.vcpu = this.vm.createVcpu(id);
      this.vcpuIds.add(id);
    }
    const occupied = [...this.slots.entries()].filter(([k]) => k >>> 16 === 0).map(([, s]) => ({ gpa: s.gpa, size: s.size }));
    const r = runGuestWrites(this.vm, this.vcpu, this.mode, guestWriteList(step), this.codeSlotId(), occupied);
    if (r.exitReason === KVM_EXIT_HLT) return 0;
    if (r.exitReason === KVM_EXIT_MMIO) return -1;
    throw new Error(`guest code stopped with exit reason ${r.exitReason}, not HLT`);
  }

  /** The highest user slot id the script never touched. */
  private codeSlotId(): number {
    let id = this.sys.checkExtension(KVM_CAP_NR_MEMSLOTS) - 1;
    while (this.usedIds.has(id)) id--;
    return id;
  }

  private readGuest(gpa: bigint, length: number): Uint8Array {
    for (const [k, s] of this.slots) {
      if (s.mem !== undefined && k >>> 16 === 0 && gpa >= s.gpa && gpa + BigInt(length) <= s.gpa + s.size) {
        return s.mem.read(Number(gpa - s.gpa), length);
      }
    }
    throw new RangeError(`no memslot holds [0x${gpa.toString(16)}, +${length})`);
  }

  close(): void {
    this.vm.close();
    if (this.ownsSys) this.sys.close();
  }
}
