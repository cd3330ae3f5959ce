/**
 * Memslots and the checks of KVM_SET_USER_MEMORY_REGION, in the kernel's order:
 * kvm_vm_ioctl_set_memory_region() and __kvm_set_memory_region() in virt/kvm/kvm_main.c
 * (Linux 5.4). A failing call throws before touching anything, so the VM is unchanged.
 */
import { KvmError } from '../errors.js';
import {
  KVM_ADDRESS_SPACE_NUM,
  KVM_MEM_LOG_DIRTY_PAGES,
  KVM_MEM_READONLY,
  KVM_USER_MEM_SLOTS,
  PAGE_SIZE,
} from '../constants.js';
import type { DirtyBitmap } from './dirty-bitmap.js';
import { SparsePages } from './sparse-pages.js';
import { assertStruct, assertU64, showHex } from '../validate.js';

/** struct kvm_userspace_memory_region, minus the host pointer (the model owns the backing). */
export interface UserMemoryRegion {
  /** `as_id << 16 | id`. */
  readonly slot: number;
  readonly flags: number;
  readonly guestPhysAddr: bigint;
  /** Bytes; 0 deletes the slot. */
  readonly memorySize: bigint;
}

/** KVM_MEM_MAX_NR_PAGES: (1UL << 31) - 1 (include/linux/kvm_host.h). */
export const KVM_MEM_MAX_NR_PAGES = (1n << 31n) - 1n;

export type MemslotChange = 'create' | 'delete' | 'move' | 'flags-only';

export class Memslot {
  readonly asId: number;
  readonly id: number;
  private base: bigint;
  /** baseGfn as a JS number (exact: gfns are below 2^52), for the access fast path. */
  baseGfnNumber: number;
  readonly npages: number;
  flags: number;
  /** The slot's memory; kept across moves and flag changes, as a real VMA would be. */
  readonly backing: SparsePages;
  dirtyBitmap: DirtyBitmap | undefined;

  constructor(asId: number, id: number, baseGfn: bigint, npages: number, flags: number, backing?: SparsePages) {
    this.asId = asId;
    this.id = id;
    this.base = baseGfn;
    this.baseGfnNumber = Number(baseGfn);
    this.npages = npages;
    this.flags = flags;
    this.backing = backing ?? new SparsePages();
  }

  get baseGfn(): bigint {
    return this.base;
  }

  set baseGfn(gfn: bigint) {
    this.base = gfn;
    this.baseGfnNumber = Number(gfn);
  }

  get baseGpa(): bigint {
    return this.baseGfn << 12n;
  }

  get sizeBytes(): bigint {
    return BigInt(this.npages) << 12n;
  }

  containsGfn(gfn: bigint): boolean {
    return gfn >= this.baseGfn && gfn < this.baseGfn + BigInt(this.npages);
  }

  get logsDirty(): boolean {
    return (this.flags & KVM_MEM_LOG_DIRTY_PAGES) !== 0;
  }

  get readonly(): boolean {
    return (this.flags & KVM_MEM_READONLY) !== 0;
  }
}

export interface PlannedChange {
  readonly change: MemslotChange | 'none';
  readonly asId: number;
  readonly id: number;
  readonly baseGfn: bigint;
  readonly npages: number;
  readonly flags: number;
  readonly old: Memslot | undefined;
}

const VALID_FLAGS = KVM_MEM_LOG_DIRTY_PAGES | KVM_MEM_READONLY;

/** The memslots of one VM, per address space, sorted by base gfn for lookups. */
export class Memslots {
  readonly addressSpaces: number;
  readonly maxUserSlots: number;
  /** The last gfn a created or moved slot may cover (x86, 5.19+), or undefined for no check. */
  readonly maxGfn: bigint | undefined;
  private readonly byId: Map<number, Memslot>[] = [];
  private sorted: Memslot[][] = [];
  private lastHit: Memslot | undefined;

  constructor(opts: { addressSpaces?: number; maxUserSlots?: number; maxGpaBits?: number } = {}) {
    this.addressSpaces = opts.addressSpaces ?? KVM_ADDRESS_SPACE_NUM;
    this.maxUserSlots = opts.maxUserSlots ?? KVM_USER_MEM_SLOTS;
    this.maxGfn = opts.maxGpaBits === undefined ? undefined : (1n << BigInt(opts.maxGpaBits - 12)) - 1n;
    for (let i = 0; i < this.addressSpaces; i++) {
      this.byId.push(new Map());
      this.sorted.push([]);
    }
  }

  /** Validates a region in KVM's order and says what it would change; throws KvmError. */
  plan(mem: UserMemoryRegion): PlannedChange {
    // The struct's C types first (a value that could not be in struct kvm_userspace_memory_region).
    assertStruct(mem, 'struct kvm_userspace_memory_region', 'region');
    if (typeof mem.slot !== 'number' || !Number.isInteger(mem.slot) || mem.slot < 0 || mem.slot > 0xffff_ffff) {
      throw new KvmError('EINVAL', `slot ${showHex(mem.slot)} is not a u32`, 'slot');
    }
    if (typeof mem.flags !== 'number' || !Number.isInteger(mem.flags) || mem.flags < 0 || mem.flags > 0xffff_ffff) {
      throw new KvmError('EINVAL', `flags ${showHex(mem.flags)} is not a u32`, 'flags');
    }
    assertU64(mem.guestPhysAddr, 'guest_phys_addr', 'guestPhysAddr');
    assertU64(mem.memorySize, 'memory_size', 'memorySize');
    const asId = mem.slot >>> 16;
    const id = mem.slot & 0xffff;
    // kvm_vm_ioctl_set_memory_region: user slots only.
    if (id >= this.maxUserSlots) {
      throw new KvmError('EINVAL', `slot id ${id} ≥ KVM_USER_MEM_SLOTS (${this.maxUserSlots})`, 'slot');
    }
    // check_memory_region_flags
    if ((mem.flags & ~VALID_FLAGS) !== 0) {
      throw new KvmError('EINVAL', `unknown memslot flags 0x${mem.flags.toString(16)}`, 'flags');
    }
    if ((mem.memorySize & (PAGE_SIZE - 1n)) !== 0n) {
      throw new KvmError('EINVAL', `memory_size 0x${mem.memorySize.toString(16)} is not page aligned`, 'memorySize');
    }
    if ((mem.guestPhysAddr & (PAGE_SIZE - 1n)) !== 0n) {
      throw new KvmError('EINVAL', `guest_phys_addr 0x${mem.guestPhysAddr.toString(16)} is not page aligned`, 'guestPhysAddr');
    }
    if (asId >= this.addressSpaces) {
      throw new KvmError('EINVAL', `address space ${asId} ≥ KVM_ADDRESS_SPACE_NUM (${this.addressSpaces})`, 'slot');
    }
    if (mem.guestPhysAddr + mem.memorySize > (1n << 64n) - 1n) {
      throw new KvmError('EINVAL', 'guest_phys_addr + memory_size wraps around', 'memorySize');
    }
    const baseGfn = mem.guestPhysAddr >> 12n;
    const npagesBig = mem.memorySize >> 12n;
    if (npagesBig > KVM_MEM_MAX_NR_PAGES) {
      throw new KvmError('EINVAL', `${npagesBig} pages > KVM_MEM_MAX_NR_PAGES`, 'memorySize');
    }
    const npages = Number(npagesBig);
    const old = this.byId[asId]!.get(id);
    let change: MemslotChange | 'none';
    if (npages > 0) {
      if (old === undefined) change = 'create';
      else {
        if (npages !== old.npages) {
          throw new KvmError('EINVAL', `slot ${id} cannot be resized (${old.npages} → ${npages} pages)`, 'memorySize');
        }
        if (((mem.flags ^ old.flags) & KVM_MEM_READONLY) !== 0) {
          throw new KvmError('EINVAL', `KVM_MEM_READONLY cannot change on live slot ${id}`, 'flags');
        }
        if (baseGfn !== old.baseGfn) change = 'move';
        else if (mem.flags !== old.flags) change = 'flags-only';
        else change = 'none';
      }
    } else {
      if (old === undefined) throw new KvmError('EINVAL', `slot ${id} does not exist, nothing to delete`, 'slot');
      change = 'delete';
    }
    if (change === 'create' || change === 'move') {
      for (const s of this.sorted[asId]!) {
        if (s.id === id) continue;
        const end = baseGfn + npagesBig;
        if (!(end <= s.baseGfn || baseGfn >= s.baseGfn + BigInt(s.npages))) {
          throw new KvmError('EEXIST', `gfn range overlaps slot ${s.id}`, 'guestPhysAddr');
        }
      }
      // kvm_arch_prepare_memory_region() (x86, later kernels): the slot must fit the MMU's gfns.
      if (this.maxGfn !== undefined && baseGfn + npagesBig - 1n > this.maxGfn) {
        throw new KvmError('EINVAL', `gfn range ends beyond kvm_mmu_max_gfn() 0x${this.maxGfn.toString(16)}`, 'guestPhysAddr');
      }
    }
    return { change, asId, id, baseGfn, npages, flags: mem.flags, old };
  }

  /** Applies a validated plan; returns the slot as it now is (undefined after a delete). */
  commit(p: PlannedChange): Memslot | undefined {
    const map = this.byId[p.asId]!;
    this.lastHit = undefined;
    switch (p.change) {
      case 'none':
        return p.old;
      case 'create': {
        const s = new Memslot(p.asId, p.id, p.baseGfn, p.npages, p.flags);
        map.set(p.id, s);
        this.resort(p.asId);
        return s;
      }
      case 'delete':
        map.delete(p.id);
        this.resort(p.asId);
        return undefined;
      case 'move':
        p.old!.baseGfn = p.baseGfn;
        p.old!.flags = p.flags;
        this.resort(p.asId);
        return p.old;
      case 'flags-only':
        p.old!.flags = p.flags;
        return p.old;
    }
  }

  get(asId: number, id: number): Memslot | undefined {
    return this.byId[asId]?.get(id);
  }

  /** All slots of an address space, by ascending base gfn. */
  list(asId = 0): readonly Memslot[] {
    return this.sorted[asId] ?? [];
  }

  /**
   * The slot holding page number `gfn` given as a JS number (exact below 2^53); the fast path
   * of guest accesses. Same answer as findByGfn.
   */
  findByGfnNumber(gfn: number, asId = 0): Memslot | undefined {
    const hit = this.lastHit;
    if (hit !== undefined && hit.asId === asId && gfn >= hit.baseGfnNumber && gfn < hit.baseGfnNumber + hit.npages) return hit;
    return this.findByGfn(BigInt(gfn), asId);
  }

  /** The slot holding `gfn` (search_memslots), or undefined. */
  findByGfn(gfn: bigint, asId = 0): Memslot | undefined {
    const hit = this.lastHit;
    if (hit !== undefined && hit.asId === asId && hit.containsGfn(gfn)) return hit;
    const arr = this.sorted[asId];
    if (arr === undefined) return undefined;
    let lo = 0;
    let hi = arr.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const s = arr[mid]!;
      if (gfn < s.baseGfn) hi = mid - 1;
      else if (gfn >= s.baseGfn + BigInt(s.npages)) lo = mid + 1;
      else {
        this.lastHit = s;
        return s;
      }
    }
    return undefined;
  }

  private resort(asId: number): void {
    this.sorted[asId] = [...this.byId[asId]!.values()].sort((a, b) =>
      a.baseGfn < b.baseGfn ? -1 : a.baseGfn > b.baseGfn ? 1 : 0,
    );
  }
}
