/**
 * The nested-migration L2's code: for each queued address, MOV RDI, addr; MOV RAX, value;
 * MOV [RDI], RAX (program.store64's three instructions), a VMCALL every L2_STORES_PER_RUN
 * stores of a long queue, and a VMCALL once the queue is drained; then the same again.
 *
 * It is the hottest loop of the scenario (three instructions per store, tens of thousands of
 * stores per pre-copy round), so it is written as a plain iterator rather than a generator: a
 * generator resume, and a new instruction object per MOV, cost about a third of an L2 store that
 * needs no exit. The processor reads an instruction before it asks for the next one (see core's
 * GuestProgram), so one result object and one object per MOV are reused, their fields set for
 * each store. The instruction sequence is exactly what the generator yielded.
 */
import { program, U64_MASK, type X86Insn } from '@kvmlab/hypervisor-core';

/**
 * L2 stores per entry at most: 32768 stores (3 instructions each, plus the VMCALL) fit in one
 * entry of core's L2_MAX_INSNS_PER_ENTRY (100 000), so any working set up to 128 MiB still
 * warms up in one entry.
 */
export const L2_STORES_PER_RUN = 32_768;

/** What the program stores: the addresses queued for it, and the next value (a counter the driver owns). */
export interface L2StoreSource {
  /** L2 addresses still to store to; the program empties it when it has done them all. */
  readonly l2Queue: bigint[];
  nextValue(): bigint;
}

/** Where the program is: the three instructions of a store, or the VMCALL after a batch. */
const MOV_RDI = 0;
const MOV_RAX = 1;
const STORE = 2;
const BATCH_VMCALL = 3;

/** An immediate as a 64-bit register holds it (one already in range is kept: no new bigint). */
const imm64 = (x: bigint): bigint => (x >= 0n && x <= U64_MASK ? x : BigInt.asUintN(64, x));

type MovImm<Op extends 'mov-rdi-imm' | 'mov-rax-imm'> = { readonly op: Op; readonly len: 10; imm: bigint };

class L2StoreProgram implements Iterator<X86Insn, void, bigint> {
  private step: number = MOV_RDI;
  /** Index in the queue of the store under way. */
  private i = 0;
  private readonly result: { done: false; value: X86Insn } = { done: false, value: program.vmcall() };
  private readonly movRdi: MovImm<'mov-rdi-imm'> = { op: 'mov-rdi-imm', len: 10, imm: 0n };
  private readonly movRax: MovImm<'mov-rax-imm'> = { op: 'mov-rax-imm', len: 10, imm: 0n };

  constructor(private readonly source: L2StoreSource) {}

  next(): IteratorResult<X86Insn, void> {
    const r = this.result;
    const q = this.source.l2Queue;
    switch (this.step) {
      case MOV_RDI:
        if (this.i < q.length) {
          this.movRdi.imm = imm64(q[this.i]!);
          r.value = this.movRdi;
          this.step = MOV_RAX;
        } else {
          // the queue is drained: empty it and hand the CPU back to L1
          q.length = 0;
          this.i = 0;
          r.value = program.vmcall();
        }
        return r;
      case MOV_RAX:
        this.movRax.imm = imm64(this.source.nextValue());
        r.value = this.movRax;
        this.step = STORE;
        return r;
      case STORE:
        this.i++;
        // A long queue hands the CPU back to L1 every L2_STORES_PER_RUN stores, as a real L2
        // kernel's work loop would yield: one entry stays below core's L2_MAX_INSNS_PER_ENTRY,
        // where an L2 with no wake source counts as spinning forever. L1 resumes it for the rest.
        this.step = this.i % L2_STORES_PER_RUN === 0 && this.i < q.length ? BATCH_VMCALL : MOV_RDI;
        r.value = program.storeRdiRax();
        return r;
      default: // BATCH_VMCALL
        this.step = MOV_RDI;
        r.value = program.vmcall();
        return r;
    }
  }

}

/** A fresh instance of the program over `source` (what GuestDriver loads at l2ProgramRip). */
export const l2StoreProgram = (source: L2StoreSource): Iterator<X86Insn, void, bigint> => new L2StoreProgram(source);
