/**
 * The selftests' ucall on x86_64 (tools/testing/selftests/kvm/lib/x86_64/ucall.c of v5.4): the
 * guest fills a struct ucall { u64 cmd; u64 args[6]; } and executes `in %dx, %al` on port 0x1000
 * with RDI pointing at the struct. Nobody intercepts that port, so KVM exits to userspace
 * (KVM_EXIT_IO) — from L1, or straight from L2 — and the test reads the struct at RDI.
 * Guest side only: L1's version runs on the vCPU, L2's is code for the processor.
 */
import { assemble, type AsmLine, program, readLe, type Vcpu, leBytes } from '@kvmlab/hypervisor-core';
import { UCALL_DONE, UCALL_MAX_ARGS, UCALL_PIO_PORT, UCALL_SYNC } from '../constants.js';

export interface UcallArgs {
  readonly cmd: number;
  readonly args: readonly bigint[];
}

/** sizeof(struct ucall). */
export const UCALL_STRUCT_BYTES = 8 * (1 + UCALL_MAX_ARGS);

function structBytes(cmd: number, args: readonly bigint[]): Uint8Array {
  const b = new Uint8Array(UCALL_STRUCT_BYTES);
  b.set(leBytes(8, BigInt(cmd)), 0);
  args.slice(0, UCALL_MAX_ARGS).forEach((a, i) => b.set(leBytes(8, a), 8 + 8 * i));
  return b;
}

/** L1's ucall(cmd, args…): the struct at `at` (its stack, in the selftests), RDI = at, IN AL, DX. */
export function ucall(vcpu: Vcpu, at: bigint, cmd: number, args: readonly bigint[] = []): void {
  vcpu.write(at, structBytes(cmd, args));
  vcpu.x86.regs.rdi = at;
  vcpu.x86.regs.rdx = BigInt(UCALL_PIO_PORT);
  vcpu.io(UCALL_PIO_PORT, 1, 'in');
}

/** GUEST_SYNC(stage): ucall(UCALL_SYNC, 2, "hello", stage) — the string pointer is 0 here. */
export const guestSync = (vcpu: Vcpu, at: bigint, stage: boolean | bigint): void =>
  ucall(vcpu, at, UCALL_SYNC, [0n, typeof stage === 'boolean' ? (stage ? 1n : 0n) : stage]);
export const guestDone = (vcpu: Vcpu, at: bigint): void => ucall(vcpu, at, UCALL_DONE);

/** The same ucall as L2 machine code (for `assemble`). */
export function ucallAsm(at: bigint, cmd: number, args: readonly bigint[] = []): AsmLine[] {
  const lines: AsmLine[] = [{ op: 'store', gpa: at, value: BigInt(cmd) }];
  args.slice(0, UCALL_MAX_ARGS).forEach((a, i) => lines.push({ op: 'store', gpa: at + 8n + 8n * BigInt(i), value: a }));
  lines.push({ op: 'mov-rdi', value: at }, { op: 'in', port: UCALL_PIO_PORT });
  return lines;
}

/** GUEST_SYNC(stage) as L2 machine code. */
export const guestSyncAsm = (at: bigint, stage: boolean): AsmLine[] => ucallAsm(at, UCALL_SYNC, [0n, stage ? 1n : 0n]);

/** The same ucall as instructions of a JS guest program (`yield* ucallProgram(…)`). */
export function* ucallProgram(at: bigint, cmd: number, args: readonly bigint[] = []): program.GuestCode {
  yield* program.store64(at, BigInt(cmd));
  for (const [i, a] of args.slice(0, UCALL_MAX_ARGS).entries()) yield* program.store64(at + 8n + 8n * BigInt(i), a);
  yield program.movRdi(at);
  yield* program.inb(UCALL_PIO_PORT);
}

/** get_ucall(): the host reads the struct at the vCPU's RDI (L1 and L2 address it identity-mapped, as the selftests do). */
export function getUcall(vcpu: Vcpu): UcallArgs {
  const b = vcpu.vm.memory.read(vcpu.x86.regs.rdi, UCALL_STRUCT_BYTES);
  return { cmd: Number(readLe(b, 0, 8)), args: Array.from({ length: UCALL_MAX_ARGS }, (_, i) => readLe(b, 8 + 8 * i, 8)) };
}

export { assemble };
