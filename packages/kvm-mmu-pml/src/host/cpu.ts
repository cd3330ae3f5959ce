/**
 * The processor: every guest access is translated through the EPT that EPT_POINTER of the
 * loaded VMCS names — L0's TDP table for L1, EPT02 (the shadow of EPT12) for L2 — with the
 * A/D flag updates of SDM §28.2.4 and page-modification logging of §28.2.6. A missing or
 * read-only SPTE is an EPT-violation exit to L0; a full log is a PML-full exit. After KVM
 * handles the exit the access is retried, as the CPU re-executes the instruction.
 */
import {
  EXIT_REASON_EPT_VIOLATION,
  EXIT_REASON_PML_FULL,
  GUEST_PML_INDEX,
  leBytes,
  PAGE_BYTES,
  PML_ENTITY_NUM,
  u64Halves,
  VMX_EPT_ACCESS_BIT,
  VMX_EPT_DIRTY_BIT,
  VMX_EPT_READABLE_MASK,
  Vmcs,
} from '@kvmlab/hypervisor-core';
import { PT_WRITABLE_MASK } from '../constants.js';
import { vmxHandleExit } from './exits.js';
import { Spte } from './mmu-pages.js';
import type { KvmMmuState } from './shapes.js';
import type { VcpuVmx } from './vcpu-vmx.js';

/** The flags an access tests, as numbers: they are all in bits 31:0, which Spte.lo mirrors. */
const READABLE = Number(VMX_EPT_READABLE_MASK);
const WRITABLE = Number(PT_WRITABLE_MASK);
const ACCESSED = Number(VMX_EPT_ACCESS_BIT);
const DIRTY = Number(VMX_EPT_DIRTY_BIT);

/** GUEST_PML_INDEX values the CPU stores, -1 (0xFFFF, the 16-bit field's wrap) to 511, made once: the store allocates nothing. */
const PML_INDEX_VALUES = Array.from({ length: PML_ENTITY_NUM + 1 }, (_, i) => BigInt.asUintN(16, BigInt(i - 1)));
const pmlIndexValue = (i: number): bigint => PML_INDEX_VALUES[i + 1]!;
/** GUEST_PML_INDEX's value slot in every VMCS (the CPU's per-store access skips the encoding checks and the bigint conversion). */
const PML_INDEX_SLOT = Vmcs.numberFieldSlot(GUEST_PML_INDEX);

/** A fault KVM cannot fix in a few rounds is a model bug, never guest input. */
const MAX_ROUNDS = 6;

/** What a page access resolved to: a leaf, an MMIO exit, an exit reflected to L1, or a store L0 emulates. */
export type AccessOutcome = Spte | 'mmio' | 'reflected' | { readonly emulate: bigint };

// the CPU's EPT walk of one page, with A/D updates and PML (SDM §28.2.4, §28.2.6)
export function cpuAccessPage(m: KvmMmuState, v: VcpuVmx, gpa: bigint, inGfn: number, write: boolean, looked?: Spte): AccessOutcome {
  for (let round = 0; round < MAX_ROUNDS; round++) {
    // the caller's lookup serves the first round (an exit may change the table: look again after one)
    const spte = round === 0 && looked !== undefined ? looked : v.activeTable.entries.get(inGfn);
    const need = write ? WRITABLE : READABLE;
    if (spte === undefined || (spte.lo & need) === 0) {
      const r = vmxHandleExit(m, v, EXIT_REASON_EPT_VIOLATION, { gpa, write });
      if (r !== 'retry') return r;
      continue;
    }
    if (v.adActive) {
      const lo = spte.lo;
      const setA = (lo & ACCESSED) === 0;
      const setD = write && (lo & DIRTY) === 0;
      if (setA || setD) {
        let idx = 0;
        if (v.pmlOn) {
          idx = v.current.peekNumberAt(PML_INDEX_SLOT);
          if (idx >= PML_ENTITY_NUM) {
            // PML-full exit before the access: no flag is set, nothing is written.
            vmxHandleExit(m, v, EXIT_REASON_PML_FULL, { gpa, write });
            continue;
          }
        }
        spte.setLowBits(setD ? ACCESSED | DIRTY : ACCESSED);
        if (setD && v.pmlOn) {
          // The GPA of the access as the EPT in use saw it: an L2 GPA when L2 runs on EPT02.
          v.logGfn(idx, inGfn);
          v.current.cpuWriteNumberAt(PML_INDEX_SLOT, pmlIndexValue(idx - 1), (idx - 1) & 0xffff);
          v.exits.pmlEntriesLogged++;
        }
      }
    }
    return spte;
  }
  throw new Error(`kvm-mmu-pml: access to 0x${gpa.toString(16)} not resolved after ${MAX_ROUNDS} exits (model bug)`);
}

/** 2^53: below it a byte address is exact in a double. */
const EXACT_LIMIT = 2 ** 53;

/**
 * A guest store, page by page. Below 2^53 the page arithmetic is done in doubles and the bigint
 * address is only formed for an exit (the leaf's own flags stay bigint, as the SPTE is).
 */
export function cpuWrite(m: KvmMmuState, v: VcpuVmx, gpa: bigint, bytes: Uint8Array): void {
  const base = Number(gpa);
  if (base + bytes.length >= EXACT_LIMIT) return cpuWriteBig(m, v, gpa, bytes);
  let done = 0;
  while (done < bytes.length) {
    const a = base + done;
    const gfn = Math.floor(a / PAGE_BYTES);
    const inPage = a - gfn * PAGE_BYTES;
    const n = Math.min(PAGE_BYTES - inPage, bytes.length - done);
    const chunk = n === bytes.length ? bytes : bytes.subarray(done, done + n);
    // Fast path: the leaf is present, writable and already accessed+dirty: no exit, no log.
    let spte: AccessOutcome | undefined = v.activeTable.entries.get(gfn);
    if (spte === undefined || (spte.lo & v.writeFastMask) !== v.writeFastMask) {
      spte = cpuAccessPage(m, v, done === 0 ? gpa : gpa + BigInt(done), gfn, true, spte);
    }
    if (!storeTo(m, v, spte, done === 0 ? gpa : undefined, gpa, done, chunk, inPage)) return;
    done += n;
  }
}

/** u64Halves' output for cpuWriteU64 (filled, then stored: never kept). */
const HALVES = new Uint32Array(2);

/**
 * A guest 64-bit store: cpuWrite(leBytes(8, value)), byte for byte and exit for exit, without the
 * bytes when it is aligned (so inside one page) and lands in RAM — every store of the model's L2
 * programs. An unaligned store or one at 2^53 and up takes cpuWrite; MMIO and an emulated tracked
 * write get the bytes, as cpuWrite's storeTo gives them.
 */
export function cpuWriteU64(m: KvmMmuState, v: VcpuVmx, gpa: bigint, value: bigint): void {
  const a = Number(gpa);
  // (a & 7): the low bits of a safe integer; a gpa of 2^53 and up may have rounded, so it is not tested
  if (a + 8 >= EXACT_LIMIT || (a & 7) !== 0) return cpuWrite(m, v, gpa, leBytes(8, value));
  const gfn = Math.floor(a / PAGE_BYTES);
  const inPage = a - gfn * PAGE_BYTES;
  let spte: AccessOutcome | undefined = v.activeTable.entries.get(gfn);
  if (spte === undefined || (spte.lo & v.writeFastMask) !== v.writeFastMask) spte = cpuAccessPage(m, v, gpa, gfn, true, spte);
  if (spte instanceof Spte) {
    u64Halves(value, HALVES);
    (spte.data ??= spte.slot.backing.pageFor(spte.page)).writeHalves(inPage, HALVES[0]!, HALVES[1]!);
    return;
  }
  storeTo(m, v, spte, gpa, gpa, 0, leBytes(8, value), inPage);
}

/** The store of one page's chunk once the access resolved; false when it went to L1 (the access ends). */
function storeTo(m: KvmMmuState, v: VcpuVmx, spte: AccessOutcome, addr: bigint | undefined, gpa: bigint, done: number, chunk: Uint8Array, inPage: number): boolean {
  if (spte instanceof Spte) {
    (spte.data ??= spte.slot.backing.pageFor(spte.page)).write(chunk, 0, inPage, chunk.length); // the common case, tested first
    return true;
  }
  if (spte === 'reflected') return false;
  if (spte === 'mmio') v.vcpu.mmioExit(addr ?? gpa + BigInt(done), true, chunk);
  else m.emulateTrackedWrite(v, spte.emulate + BigInt(inPage), chunk);
  return true;
}

/** The same in bigint arithmetic, for addresses a double cannot hold exactly. */
function cpuWriteBig(m: KvmMmuState, v: VcpuVmx, gpa: bigint, bytes: Uint8Array): void {
  let done = 0;
  while (done < bytes.length) {
    const addr = gpa + BigInt(done);
    const inPage = Number(addr & 0xfffn);
    const n = Math.min(PAGE_BYTES - inPage, bytes.length - done);
    const chunk = n === bytes.length ? bytes : bytes.subarray(done, done + n);
    const gfn = Number(addr >> 12n);
    let spte: AccessOutcome | undefined = v.activeTable.entries.get(gfn);
    if (spte === undefined || (spte.lo & v.writeFastMask) !== v.writeFastMask) {
      spte = cpuAccessPage(m, v, addr, gfn, true, spte);
    }
    if (!storeTo(m, v, spte, addr, gpa, done, chunk, inPage)) return;
    done += n;
  }
}

/** A guest load, page by page. */
export function cpuRead(m: KvmMmuState, v: VcpuVmx, gpa: bigint, length: number): Uint8Array {
  const out = new Uint8Array(length);
  let done = 0;
  while (done < length) {
    const addr = gpa + BigInt(done);
    const inPage = Number(addr & 0xfffn);
    const n = Math.min(PAGE_BYTES - inPage, length - done);
    const gfn = Number(addr >> 12n);
    let spte: AccessOutcome | undefined = v.activeTable.entries.get(gfn);
    if (spte === undefined || (spte.lo & v.readFastMask) !== v.readFastMask) {
      spte = cpuAccessPage(m, v, addr, gfn, false, spte);
    }
    if (spte === 'reflected') return out;
    if (spte === 'mmio') out.set(v.vcpu.mmioExit(addr, false, new Uint8Array(n)), done);
    else if ('emulate' in spte) throw new Error('kvm-mmu-pml: a read was sent to write emulation (model bug)');
    else spte.slot.backing.read(spte.page * PAGE_BYTES + inPage, out, done, n);
    done += n;
  }
  return out;
}
