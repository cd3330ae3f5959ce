/**
 * A VM: memslots, guest memory, vCPUs and the dirty log. Every method fails like the KVM
 * ioctl it models (virt/kvm/kvm_main.c, Linux 5.4) and leaves the VM unchanged when it does.
 */
import {
  KVM_MEM_LOG_DIRTY_PAGES,
  KVM_DIRTY_LOG_INITIALLY_SET,
  KVM_DIRTY_LOG_MANUAL_CAPS,
  KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE,
} from '../constants.js';
import { KvmError } from '../errors.js';
import type { Hypervisor } from '../hypervisor.js';
import type { Arch, ExitInfo } from '../plugin/types.js';
import { ArmVmTimer, type KvmArmCounterOffset } from '../arm64/arch-timer.js';
import { Vcpu } from '../vcpu/vcpu.js';
import { DirtyBitmap } from './dirty-bitmap.js';
import { GuestMemory } from './guest-memory.js';
import { Memslots, type Memslot, type UserMemoryRegion } from './memslots.js';
import { WriteProtectMmu, type Mmu } from './mmu.js';
import { allocOrEnomem, assertBytes, assertInt, assertReg64, assertStruct, assertU32, assertU64, show } from '../validate.js';

/** KVM_CLEAR_DIRTY_LOG's struct kvm_clear_dirty_log. */
export interface ClearDirtyLogArgs {
  readonly slot: number;
  readonly firstPage: bigint | number;
  readonly numPages: number;
  /** Bits relative to firstPage, KVM layout; at least ALIGN(numPages, 64) / 8 bytes. */
  readonly bitmap: Uint8Array;
}

/** The VMM's handler for MMIO exits no plugin took: fill `exit.data` for reads. */
export type MmioHandler = (vcpu: Vcpu, exit: ExitInfo) => void;

export interface VmStats {
  getDirtyLogCalls: number;
  clearDirtyLogCalls: number;
  /** Pages reported dirty by GET_DIRTY_LOG so far. */
  pagesHarvested: number;
  mmioExits: number;
}

export interface VmOptions {
  /** Override KVM_USER_MEM_SLOTS (default: the hypervisor's kernel era, 509 in 5.x, 32764 in 6.x). */
  readonly maxUserSlots?: number;
}

export class Vm {
  readonly hv: Hypervisor;
  readonly arch: Arch;
  readonly id: number;
  readonly memslots: Memslots;
  /** Guest physical memory as the VMM sees it (address space 0). */
  readonly memory: GuestMemory;
  readonly vcpus: Vcpu[] = [];
  readonly stats: VmStats = { getDirtyLogCalls: 0, clearDirtyLogCalls: 0, pagesHarvested: 0, mmioExits: 0 };
  /** KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2 args[0] (kvm->manual_dirty_log_protect). */
  manualDirtyLogProtect = 0;
  /** True once a vCPU has executed guest code (kvm_vm_has_ran_once). */
  hasRun = false;
  onMmio: MmioHandler | undefined;
  /** The VMM's handler for port I/O exits (KVM_EXIT_IO) no plugin took: fill `exit.data` for IN. */
  onIo: MmioHandler | undefined;
  /** arm64: the counter offsets (kvm->arch.timer_data); x86 VMs have one too, unused. */
  readonly armTimer: ArmVmTimer;
  private mmuInstance: Mmu | undefined;

  constructor(hv: Hypervisor, id: number, opts: VmOptions = {}) {
    // KVM_CREATE_VM's machine type has no slot count; the override is the model's, so a config check.
    if (typeof opts !== 'object' || opts === null) throw new KvmError('EINVAL', `VM options ${show(opts)} are not an object`, 'opts');
    if (opts.maxUserSlots !== undefined) assertInt(opts.maxUserSlots, 1, 0x7fff, 'maxUserSlots'); // ids are 15 bits (KVM_MEM_SLOTS_NUM)
    this.hv = hv;
    this.arch = hv.arch;
    this.id = id;
    // x86 has two address spaces (normal + SMM), arm64 one.
    this.memslots = new Memslots({
      addressSpaces: hv.arch === 'x86_64' ? hv.kernel.addressSpaces : 1,
      maxUserSlots: opts.maxUserSlots ?? hv.kernel.userMemSlots,
      maxGpaBits: hv.arch === 'x86_64' ? hv.kernel.maxGpaBits : undefined,
    });
    this.memory = new GuestMemory(this.memslots);
    this.armTimer = new ArmVmTimer(this);
  }

  /** arm64 KVM_ARM_SET_COUNTER_OFFSET (6.4+; EINVAL before, as kvm_arch_vm_ioctl's default case). */
  armSetCounterOffset(arg: KvmArmCounterOffset): void {
    if (this.arch !== 'arm64') throw new KvmError('EINVAL', 'KVM_ARM_SET_COUNTER_OFFSET is an arm64 ioctl', 'ioctl');
    this.armTimer.setCounterOffset(arg);
  }

  /** The MMU guest accesses go through (a plugin's, or write protection). */
  get mmu(): Mmu {
    if (this.mmuInstance === undefined) {
      const f = this.hv.registry.mmuFactory;
      this.mmuInstance = f !== undefined ? f.value(this) : new WriteProtectMmu(this);
    }
    return this.mmuInstance;
  }

  /** KVM_CHECK_EXTENSION on the VM fd. */
  checkExtension(cap: number): number {
    const def = this.hv.registry.capabilities.get(cap);
    return def === undefined ? 0 : def.value.check(this);
  }

  /** KVM_ENABLE_CAP on the VM fd. */
  enableCap(cap: number, args: readonly (bigint | number)[] = [], flags = 0): void {
    // struct kvm_enable_cap: __u32 cap, __u32 flags, __u64 args[4].
    assertU32(cap, 'cap');
    assertU32(flags, 'flags');
    if (!Array.isArray(args)) throw new KvmError('EFAULT', `args ${show(args)} is not an array`, 'args');
    if (args.length > 4) throw new KvmError('EINVAL', 'kvm_enable_cap has 4 args', 'args');
    const a = args.map((x, i) => {
      if (typeof x === 'number') assertInt(x, Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER, `args[${i}]`, 'args');
      else assertReg64(x, `args[${i}]`, 'args');
      return BigInt.asUintN(64, BigInt(x));
    });
    const def = this.hv.registry.capabilities.get(cap);
    if (def === undefined || def.value.check(this) === 0) {
      throw new KvmError('EINVAL', `capability ${cap} is not supported`, 'cap');
    }
    if (def.value.enable === undefined) throw new KvmError('EINVAL', `capability ${cap} cannot be enabled`, 'cap');
    def.value.enable(this, a, flags);
  }

  /**
   * kvm_vm_ioctl_enable_cap_generic(), KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2 case: `caps` is what the
   * kernel answers for the capability — 1 before 5.7 (args[0] must be 0 or 1), 3 from 5.7
   * (INITIALLY_SET only together with MANUAL_PROTECT_ENABLE).
   */
  enableManualDirtyLogProtect(args: readonly bigint[], flags: number, caps: number = KVM_DIRTY_LOG_MANUAL_CAPS): void {
    const arg = args[0] ?? 0n;
    let allowed = BigInt(KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE);
    if ((arg & BigInt(KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE)) !== 0n) allowed = BigInt(caps);
    if (flags !== 0 || (arg & ~allowed) !== 0n) {
      throw new KvmError('EINVAL', `KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2 args[0] = ${arg} is not ${caps === 1 ? '0 or 1' : '0, 1 or 3'}`, 'args');
    }
    this.manualDirtyLogProtect = Number(arg);
  }

  private get initiallySet(): boolean {
    // Stryker disable next-line ConditionalExpression,LogicalOperator: enableManualDirtyLogProtect() never stores INITIALLY_SET without MANUAL_PROTECT_ENABLE (args[0] = 2 is EINVAL), so the first test is implied by the second
    return (this.manualDirtyLogProtect & KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE) !== 0 &&
      (this.manualDirtyLogProtect & KVM_DIRTY_LOG_INITIALLY_SET) !== 0;
  }

  /** KVM_SET_USER_MEMORY_REGION. */
  setUserMemoryRegion(region: UserMemoryRegion): void {
    const plan = this.memslots.plan(region);
    const oldFlags = plan.old?.flags ?? 0;
    // __kvm_set_memory_region allocates the bitmap before the new memslots are installed, so a
    // failed kvzalloc() is ENOMEM with nothing changed.
    const logs = (plan.flags & KVM_MEM_LOG_DIRTY_PAGES) !== 0;
    // Stryker disable next-line StringLiteral: `!== ""` is always true, which only adds an allocation that is dropped below (a delete has no slot to give it to; 'none' keeps the slot's own bitmap)
    const fresh = plan.change !== 'delete' && plan.change !== 'none' && plan.old?.dirtyBitmap === undefined;
    const bitmap = logs && fresh
      ? allocOrEnomem('dirty bitmap', () => new DirtyBitmap(plan.npages, this.initiallySet))
      : undefined;
    const slot = this.memslots.commit(plan);
    if (plan.change === 'delete') {
      // kvm_arch_flush_shadow_memslot(): the MMU drops what mapped the deleted slot.
      if (plan.old !== undefined) this.mmu.slotChanged?.(plan.old, oldFlags, 'delete');
      return;
    }
    if (slot === undefined || plan.change === 'none') return;
    // __kvm_set_memory_region: allocate the bitmap when logging starts, drop it when it stops.
    if (slot.logsDirty && slot.dirtyBitmap === undefined) {
      slot.dirtyBitmap = bitmap;
    } else if (!slot.logsDirty) {
      slot.dirtyBitmap = undefined;
    }
    this.mmu.slotChanged?.(slot, oldFlags, plan.change);
  }

  private slotForLog(slotArg: number, what: string): Memslot {
    assertU32(slotArg, `${what}: slot`, 'slot');
    const asId = slotArg >>> 16;
    const id = slotArg & 0xffff;
    if (asId >= this.memslots.addressSpaces || id >= this.memslots.maxUserSlots) {
      throw new KvmError('EINVAL', `${what}: slot ${slotArg} out of range`, 'slot');
    }
    const slot = this.memslots.get(asId, id);
    if (slot?.dirtyBitmap === undefined) {
      throw new KvmError('ENOENT', `${what}: slot ${id} ${slot === undefined ? 'does not exist' : 'does not log dirty pages'}`, 'slot');
    }
    return slot;
  }

  /**
   * KVM_GET_DIRTY_LOG: the slot's bitmap. Without manual protect the bits are cleared and
   * those pages re-protected (kvm_get_dirty_log_protect); with it, only a copy.
   * `bitmap` is struct kvm_dirty_log's dirty_bitmap: the caller's buffer, filled in and
   * returned (too small: EFAULT, as copy_to_user would fail — after the harvest, so the bits are
   * lost, unless manual protect is on); without it, a new array.
   */
  getDirtyLog(slotArg: number, bitmap?: Uint8Array): Uint8Array {
    // A buffer that is not bytes (a plain Array, say) is a bad dirty_bitmap pointer: EFAULT before the harvest.
    if (bitmap !== undefined) assertBytes(bitmap, 'dirty_bitmap', 'bitmap');
    const slot = this.slotForLog(slotArg, 'KVM_GET_DIRTY_LOG');
    const bm = slot.dirtyBitmap!;
    const tooShort = bitmap !== undefined && bitmap.length < bm.bytes.length;
    const efault = (): KvmError => new KvmError('EFAULT', `dirty_bitmap has ${bitmap!.length} bytes, ${bm.bytes.length} needed`, 'bitmap');
    // With manual protect nothing is cleared, so a failed copy_to_user() loses nothing.
    if (tooShort && this.manualDirtyLogProtect !== 0) throw efault();
    this.mmu.flushLogs?.();
    this.stats.getDirtyLogCalls++;
    if (this.manualDirtyLogProtect !== 0) {
      return bm.snapshot(bitmap);
    }
    this.stats.pagesHarvested += bm.dirtyCount;
    // kvm_get_dirty_log_protect() clears and re-protects before copy_to_user(): a buffer too short
    // for the copy gets EFAULT after the bits are gone (the pages stay clean until written again).
    const snap = bm.harvest(tooShort ? undefined : bitmap);
    const reprotect = this.mmu.reprotect?.bind(this.mmu);
    if (reprotect !== undefined) {
      // A caller's buffer may sit at any byte offset; 32-bit lanes need 4-byte alignment.
      const src = snap.byteOffset % 4 === 0 ? snap : snap.slice(0, bm.bytes.length);
      const lanes = new Uint32Array(src.buffer, src.byteOffset, bm.bytes.length / 4);
      for (let i = 0; i < lanes.length; i++) if (lanes[i] !== 0) reprotect(slot, i * 32, lanes[i]!);
    }
    if (tooShort) throw efault();
    return snap;
  }

  /** KVM_CLEAR_DIRTY_LOG (kvm_clear_dirty_log_protect). */
  clearDirtyLog(args: ClearDirtyLogArgs): void {
    // struct kvm_clear_dirty_log: __u32 slot, __u32 num_pages, __u64 first_page, dirty_bitmap.
    assertStruct(args, 'struct kvm_clear_dirty_log', 'args');
    assertU32(args.slot, 'KVM_CLEAR_DIRTY_LOG: slot', 'slot');
    assertU32(args.numPages, 'num_pages', 'numPages');
    if (typeof args.firstPage === 'number') assertInt(args.firstPage, 0, Number.MAX_SAFE_INTEGER, 'first_page', 'firstPage');
    else assertU64(args.firstPage, 'first_page', 'firstPage');
    assertBytes(args.bitmap, 'dirty_bitmap', 'bitmap');
    const firstPage = BigInt(args.firstPage);
    const numPages = args.numPages;
    const asId = args.slot >>> 16;
    const id = args.slot & 0xffff;
    if (asId >= this.memslots.addressSpaces || id >= this.memslots.maxUserSlots) {
      throw new KvmError('EINVAL', `KVM_CLEAR_DIRTY_LOG: slot ${args.slot} out of range`, 'slot');
    }
    if ((firstPage & 63n) !== 0n) {
      throw new KvmError('EINVAL', `first_page ${firstPage} is not a multiple of 64`, 'firstPage');
    }
    const slot = this.slotForLog(args.slot, 'KVM_CLEAR_DIRTY_LOG');
    const npages = BigInt(slot.npages);
    const n = BigInt(numPages);
    if (firstPage > npages || n > npages - firstPage || (n < npages - firstPage && (n & 63n) !== 0n)) {
      throw new KvmError('EINVAL', `pages [${firstPage}, +${numPages}) do not fit slot ${id} of ${slot.npages} pages`, 'numPages');
    }
    const needBytes = DirtyBitmap.byteLength(numPages);
    if (args.bitmap.length < needBytes) {
      throw new KvmError('EFAULT', `bitmap has ${args.bitmap.length} bytes, ${needBytes} needed`, 'bitmap');
    }
    this.mmu.flushLogs?.();
    this.stats.clearDirtyLogCalls++;
    const bm = slot.dirtyBitmap!;
    const user = new Uint8Array(needBytes);
    user.set(args.bitmap.subarray(0, needBytes));
    const lanes = new Uint32Array(user.buffer);
    const firstLane = Number(firstPage) / 32;
    const reprotect = this.mmu.reprotect?.bind(this.mmu);
    for (let i = 0; i < lanes.length; i++) {
      const mask = lanes[i]!;
      if (mask === 0) continue;
      const cleared = bm.clearLane(firstLane + i, mask);
      if (cleared !== 0 && reprotect !== undefined) reprotect(slot, (firstLane + i) * 32, cleared);
    }
  }

  /** kvm_vcpu_mark_page_dirty(): marks an L1 gfn in whatever slot holds it (none: nothing). */
  markPageDirty(gfn: bigint, asId = 0): boolean {
    if (typeof gfn !== 'bigint') return false; // no slot holds a non-gfn
    const slot = this.memslots.findByGfn(gfn, asId);
    if (slot?.dirtyBitmap === undefined) return false;
    slot.dirtyBitmap.set(Number(gfn - slot.baseGfn));
    return true;
  }

  /**
   * kvm_write_guest(): a write by KVM itself into guest memory; marks the pages it wrote dirty.
   * A zero-length write touches no page and marks none (virt/kvm/kvm_main.c, 5.4: its loop runs
   * once per non-empty segment, and each kvm_write_guest_page() marks its own gfn).
   */
  kvmWriteGuest(gpa: bigint, bytes: Uint8Array): void {
    assertBytes(bytes, 'bytes');
    this.memory.write(gpa, bytes);
    if (bytes.length === 0) return;
    const last = gpa + BigInt(bytes.length - 1);
    for (let gfn = gpa >> 12n; gfn <= last >> 12n; gfn++) this.markPageDirty(gfn);
  }

  /** kvm_read_guest(). */
  kvmReadGuest(gpa: bigint, length: number): Uint8Array {
    return this.memory.read(gpa, length);
  }

  /** KVM_CREATE_VCPU. */
  createVcpu(id: number): Vcpu {
    const { maxVcpuId, maxVcpus } = this.hv.kernel;
    if (!Number.isInteger(id) || id < 0 || id >= maxVcpuId) { // (false for anything not a number)
      throw new KvmError('EINVAL', `vcpu id ${show(id)} is not in 0..KVM_MAX_VCPU_ID-1 (${maxVcpuId - 1})`, 'id');
    }
    if (this.vcpus.length >= maxVcpus) throw new KvmError('EINVAL', 'too many vCPUs', 'id');
    if (this.vcpus.some((v) => v.id === id)) throw new KvmError('EEXIST', `vcpu ${id} already exists`, 'id');
    const vcpu = new Vcpu(this, id);
    this.vcpus.push(vcpu);
    for (const h of this.hv.registry.vcpuCreateHooks) h.value(vcpu);
    return vcpu;
  }
}
