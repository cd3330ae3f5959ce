/**
 * The selftests' ucall on x86_64: an OUT to port 0x1000 that no one intercepts, so KVM exits
 * to userspace with KVM_EXIT_IO (from L1 or straight from L2). The command and arguments
 * travel in the exit (the real ucall passes a pointer to them in RDI).
 */
import type { Vcpu } from '@kvmlab/hypervisor-core';
import { UCALL_DONE, UCALL_PIO_PORT, UCALL_SYNC } from '../constants.js';

export interface UcallArgs {
  readonly cmd: number;
  readonly args: readonly bigint[];
}

export function ucall(vcpu: Vcpu, cmd: number, args: readonly bigint[] = []): void {
  const u: UcallArgs = { cmd, args };
  vcpu.exit({ reason: 'io', port: UCALL_PIO_PORT, isWrite: true, size: 4, ucall: u });
}

/** GUEST_SYNC(stage): ucall(UCALL_SYNC, "hello", stage). */
export const guestSync = (vcpu: Vcpu, stage: bigint | boolean): void =>
  ucall(vcpu, UCALL_SYNC, [0n, typeof stage === 'boolean' ? (stage ? 1n : 0n) : stage]);
export const guestDone = (vcpu: Vcpu): void => ucall(vcpu, UCALL_DONE);
