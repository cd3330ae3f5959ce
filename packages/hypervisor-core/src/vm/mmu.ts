/**
 * The path every guest memory access takes, and so the dirty tracker. The default MMU tracks
 * writes by write protection: a guest write to a clean page of a logging slot "faults", is
 * counted, marks the page dirty and makes it writable. Its write-protection state needs no
 * table of its own: on a logging slot a page is writable exactly while its dirty bit is set
 * (enabling logging protects all pages, unless KVM_DIRTY_LOG_INITIALLY_SET marks them all
 * dirty; GET and CLEAR re-protect exactly the bits they clear). A plugin may install another
 * MMU (kvm-mmu-pml installs the EPT/PML one).
 */
import type { Vcpu } from '../vcpu/vcpu.js';
import type { Memslot, MemslotChange } from './memslots.js';
import { PAGE_BYTES } from './sparse-pages.js';
import type { Vm } from './vm.js';

export interface Mmu {
  readonly name: string;
  /** A guest write of `bytes` at `gpa`, in the vCPU's current translation context. */
  guestWrite(vcpu: Vcpu, gpa: bigint, bytes: Uint8Array): void;
  /**
   * Optional: a guest 8-byte store of `value` (its low 64 bits, little-endian) — exactly
   * guestWrite(vcpu, gpa, leBytes(8, value)), for an MMU that can store it without making the
   * bytes. The processor uses it for its 64-bit stores when the MMU has it.
   */
  guestWriteU64?(vcpu: Vcpu, gpa: bigint, value: bigint): void;
  /** A guest read. */
  guestRead(vcpu: Vcpu, gpa: bigint, length: number): Uint8Array;
  /**
   * kvm_mmu_slot_apply_flags(): a slot was created, moved or had its flags changed; or, with
   * change 'delete', kvm_arch_flush_shadow_memslot(): the slot (already removed) is gone.
   */
  slotChanged?(slot: Memslot, oldFlags: number, change: MemslotChange): void;
  /** Before a harvest: kick the vCPUs so that hardware logs (PML) reach the bitmaps. */
  flushLogs?(): void;
  /**
   * kvm_arch_mmu_enable_log_dirty_pt_masked(): the bits of `mask` (pages firstPage + i of
   * `slot`) were just cleared by GET or CLEAR and their pages must be tracked again.
   */
  reprotect?(slot: Memslot, firstPage: number, mask: number): void;
}

/** 2^53: below it, byte addresses are exact in a double. */
const EXACT_LIMIT_NUMBER = 2 ** 53;

export interface MmuStats {
  writeProtectFaults: number;
}

export class WriteProtectMmu implements Mmu {
  readonly name = 'write-protect';
  readonly stats: MmuStats = { writeProtectFaults: 0 };
  private readonly vm: Vm;

  constructor(vm: Vm) {
    this.vm = vm;
  }

  guestWrite(vcpu: Vcpu, gpa: bigint, bytes: Uint8Array): void {
    if (vcpu.x86.guestMode) return this.guestWriteL2(vcpu, gpa, bytes);
    // Below 2^53 page arithmetic is exact in doubles: one bigint conversion per access. (A GPA
    // above 2^53 converts to at least 2^53, and a sum that reaches 2^53 may have rounded: both
    // take the bigint path.)
    const base = Number(gpa);
    if (base + bytes.length >= EXACT_LIMIT_NUMBER) return this.guestWriteSlow(vcpu, gpa, bytes);
    let done = 0;
    while (done < bytes.length) {
      const addr = base + done;
      const gfn = Math.floor(addr / PAGE_BYTES);
      const inPage = addr - gfn * PAGE_BYTES;
      const n = Math.min(PAGE_BYTES - inPage, bytes.length - done);
      const slot = this.vm.memslots.findByGfnNumber(gfn);
      const chunk = n === bytes.length ? bytes : bytes.subarray(done, done + n);
      if (slot === undefined || slot.readonly) vcpu.mmioExit(gpa + BigInt(done), true, chunk);
      else this.writePage(slot, gfn - slot.baseGfnNumber, chunk, inPage);
      done += n;
    }
  }

  /**
   * An L2 store, page by page: the nested-VMX engine translates each L2 page through EPT12 (this
   * MMU keeps no shadow EPT); a page EPT12 does not allow ends the access with an exit to L1.
   */
  private guestWriteL2(vcpu: Vcpu, gpa: bigint, bytes: Uint8Array): void {
    let done = 0;
    while (done < bytes.length) {
      const addr = gpa + BigInt(done);
      const n = Math.min(PAGE_BYTES - Number(addr & 0xfffn), bytes.length - done);
      const l1 = this.l1Address(vcpu, addr, true);
      if (l1 === null) return;
      this.guestWriteSlow(vcpu, l1, bytes.subarray(done, done + n));
      done += n;
    }
  }

  private l1Address(vcpu: Vcpu, l2Gpa: bigint, write: boolean): bigint | null {
    const engine = this.vm.hv.registry.nestedVmx;
    return engine === undefined ? l2Gpa : engine.translateL2(vcpu, l2Gpa, write);
  }

  /** The same, in bigint arithmetic, for addresses a double cannot hold exactly. */
  private guestWriteSlow(vcpu: Vcpu, gpa: bigint, bytes: Uint8Array): void {
    let done = 0;
    while (done < bytes.length) {
      const addr = gpa + BigInt(done);
      const inPage = Number(addr & 0xfffn);
      const n = Math.min(PAGE_BYTES - inPage, bytes.length - done);
      const gfn = addr >> 12n;
      const slot = this.vm.memslots.findByGfn(gfn);
      const chunk = bytes.subarray(done, done + n);
      if (slot === undefined || slot.readonly) vcpu.mmioExit(addr, true, chunk);
      else this.writePage(slot, Number(gfn - slot.baseGfn), chunk, inPage);
      done += n;
    }
  }

  /** A store into page `page` of `slot`, through write-protection tracking. */
  private writePage(slot: Memslot, page: number, chunk: Uint8Array, inPage: number): void {
    const bm = slot.dirtyBitmap;
    if (bm !== undefined && !bm.test(page)) {
      // Write-protection fault: fast_page_fault() makes the SPTE writable and marks the gfn.
      this.stats.writeProtectFaults++;
      bm.set(page);
    }
    slot.backing.pageFor(page).write(chunk, 0, inPage, chunk.length);
  }

  guestRead(vcpu: Vcpu, gpa: bigint, length: number): Uint8Array {
    const out = new Uint8Array(length);
    // L1, below 2^53: the page arithmetic in doubles, as guestWrite does (one conversion).
    if (!vcpu.x86.guestMode) {
      const base = Number(gpa);
      if (base + length < EXACT_LIMIT_NUMBER) {
        this.readNumber(vcpu, gpa, base, out);
        return out;
      }
    }
    let done = 0;
    while (done < length) {
      const at = gpa + BigInt(done);
      const inPage = Number(at & 0xfffn);
      const n = Math.min(PAGE_BYTES - inPage, length - done);
      // In L2, `at` is an L2 GPA: the engine translates it through EPT12 (or it exits to L1).
      const addr = vcpu.x86.guestMode ? this.l1Address(vcpu, at, false) : at;
      if (addr === null) return out;
      const slot = this.vm.memslots.findByGfn(addr >> 12n);
      if (slot === undefined) {
        out.set(vcpu.mmioExit(addr, false, new Uint8Array(n)), done);
      } else {
        slot.backing.read(Number((addr >> 12n) - slot.baseGfn) * PAGE_BYTES + inPage, out, done, n);
      }
      done += n;
    }
    return out;
  }

  /** guestRead() of `out.length` bytes at `base` (= Number(gpa), exact) in L1. */
  private readNumber(vcpu: Vcpu, gpa: bigint, base: number, out: Uint8Array): void {
    const length = out.length;
    let done = 0;
    while (done < length) {
      const addr = base + done;
      const gfn = Math.floor(addr / PAGE_BYTES);
      const inPage = addr - gfn * PAGE_BYTES;
      const n = Math.min(PAGE_BYTES - inPage, length - done);
      const slot = this.vm.memslots.findByGfnNumber(gfn);
      if (slot === undefined) out.set(vcpu.mmioExit(gpa + BigInt(done), false, new Uint8Array(n)), done);
      else slot.backing.read((gfn - slot.baseGfnNumber) * PAGE_BYTES + inPage, out, done, n);
      done += n;
    }
  }
}
