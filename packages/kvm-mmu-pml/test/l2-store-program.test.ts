import { describe, expect, it } from 'vitest';
import { fc, test as fcTest } from '@fast-check/vitest';
import { program, type X86Insn } from '@kvmlab/hypervisor-core';
import { L2_STORES_PER_RUN, l2StoreProgram } from '../src/scenarios/l2-store-program.js';

/** The program as the generator it replaced: the reference for the instruction sequence. */
function* reference(queue: bigint[], nextValue: () => bigint): Generator<X86Insn, void, bigint> {
  for (;;) {
    for (let i = 0; i < queue.length; i++) {
      yield* program.store64(queue[i]!, nextValue());
      if ((i + 1) % L2_STORES_PER_RUN === 0 && i + 1 < queue.length) yield program.vmcall();
    }
    queue.length = 0;
    yield program.vmcall();
  }
}

/** Each instruction as text, read when it is fetched (the iterator reuses its objects). */
const show = (i: X86Insn): string => ('imm' in i ? `${i.op} ${i.imm}` : i.op);

/** Runs a program as the processor does: refills the queue after each VMCALL, `rounds` times. */
function run(make: (q: bigint[], next: () => bigint) => Iterator<X86Insn, void, bigint>, rounds: readonly (readonly bigint[])[]): string[] {
  const queue: bigint[] = [];
  let counter = 1n;
  const it = make(queue, () => counter++);
  const out: string[] = [];
  for (const batch of rounds) {
    queue.push(...batch);
    for (;;) {
      const r = it.next(0n);
      if (r.done === true) throw new Error('the program ended');
      out.push(show(r.value));
      if (r.value.op === 'vmcall' && queue.length === 0) break;
    }
  }
  out.push(`left ${queue.length}`);
  return out;
}

const ours = (q: bigint[], next: () => bigint) => l2StoreProgram({ l2Queue: q, nextValue: next });

describe('the nested-migration L2 program (l2-store-program.ts)', () => {
  fcTest.prop([fc.array(fc.array(fc.bigInt({ min: 0n, max: (1n << 40n) - 1n }), { maxLength: 6 }), { minLength: 1, maxLength: 8 })])(
    'yields the same instructions, immediates and VMCALLs as the generator it replaced, over any refills',
    (rounds) => {
      expect(run(ours, rounds)).toEqual(run(reference, rounds));
    },
  );

  it('hands the CPU back to L1 after every L2_STORES_PER_RUN stores of a long queue, and once more when it is drained', () => {
    const n = 2 * L2_STORES_PER_RUN + 3;
    const batch = Array.from({ length: n }, (_, i) => BigInt(i) << 12n);
    const got = run(ours, [batch]);
    expect(got).toEqual(run(reference, [batch]));
    const vmcalls = got.flatMap((s, i) => (s === 'vmcall' ? [i] : []));
    // three instructions per store; a VMCALL after store 32768 and 65536, and after the last
    expect(vmcalls).toEqual([3 * L2_STORES_PER_RUN, 6 * L2_STORES_PER_RUN + 1, 3 * n + 2]);
    expect(got[0]).toBe('mov-rdi-imm 0');
    expect(got[1]).toBe('mov-rax-imm 1');
    expect(got[2]).toBe('store-rdi-rax');
    expect(got.at(-1)).toBe('left 0');
  });

  it('keeps an immediate in the 64 bits of a register', () => {
    const got = run(ours, [[-1n, 1n << 64n]]);
    expect(got.slice(0, 1)).toEqual([`mov-rdi-imm ${(1n << 64n) - 1n}`]);
    expect(got[3]).toBe('mov-rdi-imm 0');
  });
});
