/**
 * The selftests' ucall on x86_64 (lib/x86_64/ucall.c of v5.4) as this package's guest side does
 * it: a struct ucall { u64 cmd; u64 args[6]; } in guest memory, RDI pointing at it, IN AL, DX on
 * port 0x1000; the VMM's KVM_EXIT_IO handler decodes the struct at RDI (get_ucall()). From L2
 * the port is not intercepted by L1, so the exit comes straight from L2 to L0's userspace.
 */
import { assemble, EXIT_REASON_EPT_VIOLATION, EXIT_REASON_IO_INSTRUCTION, EXIT_REASON_VMCALL, leBytes, type ExitInfo, type Vcpu } from '@kvmlab/hypervisor-core';
import { describe, expect, it } from 'vitest';
import { UCALL_DONE, UCALL_MAX_ARGS, UCALL_PIO_PORT, UCALL_SYNC } from '../src/constants.js';
import { getUcall, guestDone, guestSync, guestSyncAsm, ucall, ucallAsm, ucallProgram, UCALL_STRUCT_BYTES, type UcallArgs } from '../src/guest/ucall.js';
import { exitsOf, L1_PAGE0, L2_UCALL_PAGE, peek64, rig } from './helpers.js';

interface Seen {
  readonly port: unknown;
  readonly size: unknown;
  readonly isWrite: unknown;
  readonly rdi: bigint;
  readonly inL2: boolean;
  readonly uc: UcallArgs;
}

const recorder = (seen: Seen[]) => (vcpu: Vcpu, e: ExitInfo): void => {
  seen.push({ port: e['port'], size: e.length, isWrite: e.isWrite, rdi: vcpu.x86.regs.rdi, inL2: vcpu.x86.guestMode, uc: getUcall(vcpu) });
};

describe('ucall: the struct in guest memory, addressed by RDI, and an IN on port 0x1000', () => {
  it('L1’s ucall writes cmd and args little-endian at the address, points RDI at it and exits with IN port 0x1000', () => {
    const seen: Seen[] = [];
    const r = rig('merged', { onIo: recorder(seen) });
    const at = 0x30000n;
    r.vm.memory.fill(at, 0x100, 0xee);
    ucall(r.vcpu, at, UCALL_SYNC, [0x1111n, 0x2222n, 3n]);
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ port: UCALL_PIO_PORT, size: 1, isWrite: false, rdi: at, inL2: false });
    expect(seen[0]!.uc).toEqual({ cmd: UCALL_SYNC, args: [0x1111n, 0x2222n, 3n, 0n, 0n, 0n] });
    expect([0n, 8n, 16n, 24n, 32n].map((o) => peek64(r.vm, at + o))).toEqual([1n, 0x1111n, 0x2222n, 3n, 0n]);
    expect(UCALL_STRUCT_BYTES).toBe(8 * (1 + UCALL_MAX_ARGS));
    expect(r.vm.memory.read(at + BigInt(UCALL_STRUCT_BYTES), 8)).toEqual(new Uint8Array(8).fill(0xee)); // nothing past the struct
  });

  it('only UCALL_MAX_ARGS (6) arguments fit; GUEST_SYNC is (SYNC, 0, stage) and GUEST_DONE is (DONE)', () => {
    const seen: Seen[] = [];
    const r = rig('merged', { onIo: recorder(seen) });
    const at = 0x30000n;
    r.vm.memory.fill(at, 0x100, 0xee);
    ucall(r.vcpu, at, 7, [1n, 2n, 3n, 4n, 5n, 6n, 7n, 8n]);
    guestSync(r.vcpu, at, true);
    guestSync(r.vcpu, at, 0x42n);
    guestDone(r.vcpu, at + 0x100n);
    expect(seen.map((s) => s.uc)).toEqual([
      { cmd: 7, args: [1n, 2n, 3n, 4n, 5n, 6n] },
      { cmd: UCALL_SYNC, args: [0n, 1n, 0n, 0n, 0n, 0n] },
      { cmd: UCALL_SYNC, args: [0n, 0x42n, 0n, 0n, 0n, 0n] },
      { cmd: UCALL_DONE, args: [0n, 0n, 0n, 0n, 0n, 0n] },
    ]);
    expect(seen.map((s) => s.rdi)).toEqual([at, at, at, at + 0x100n]);
    expect(r.vm.memory.read(at + BigInt(UCALL_STRUCT_BYTES), 8)).toEqual(new Uint8Array(8).fill(0xee));
  });

  it('getUcall() decodes whatever struct RDI points at, read from guest memory at the time of the call', () => {
    const r = rig('merged');
    r.vm.memory.write(0x40000n, Uint8Array.from([...leBytes(8, 3n), ...leBytes(8, 9n), ...leBytes(8, 1n << 63n)]));
    r.vcpu.x86.regs.rdi = 0x40000n;
    expect(getUcall(r.vcpu)).toEqual({ cmd: 3, args: [9n, 1n << 63n, 0n, 0n, 0n, 0n] });
    r.vm.memory.writeU64(0x40008n, 10n);
    expect(getUcall(r.vcpu).args[0]).toBe(10n);
  });

  it('the exit to userspace drains the PML log first (vmx_handle_exit), so the VMM finds the log empty', () => {
    const idx: number[] = [];
    const r = rig('merged', { onIo: () => idx.push(r.v.pmlIndex) });
    ucall(r.vcpu, 0x30000n, UCALL_SYNC); // maps the struct's page (writable, D = 1): the next ucall takes no EPT violation
    r.l1Write(L1_PAGE0 + 0x1000n);
    expect(r.get()).toEqual([1]); // D cleared on the AD_ENABLED TDP leaf
    r.l1Write(L1_PAGE0 + 0x1000n, 2n); // logged by PML
    expect(r.v.pmlIndex).toBe(510);
    const flushes = r.v.exits.pmlFlushes;
    const faults = exitsOf(r.v, EXIT_REASON_EPT_VIOLATION);
    ucall(r.vcpu, 0x30000n, UCALL_SYNC);
    expect(exitsOf(r.v, EXIT_REASON_EPT_VIOLATION)).toBe(faults);
    expect(idx).toEqual([511, 511]);
    expect(r.v.exits.pmlFlushes - flushes).toBe(1);
    expect(exitsOf(r.v, EXIT_REASON_IO_INSTRUCTION)).toBe(2);
    expect(r.get()).toEqual([1]);
  });

  it('L2’s ucall (a JS guest program) exits straight to the VMM from L2; L1 never sees it and L2 carries on after the IN', () => {
    const seen: Seen[] = [];
    const r = rig('merged', { onIo: recorder(seen) });
    const out = r.l2(
      { op: 'code', code: () => ucallProgram(L2_UCALL_PAGE, UCALL_SYNC, [0n, 1n]) },
      { op: 'store', gpa: 0xc0001000n, value: 5n },
    );
    expect(out.status).toBe('ok');
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ port: UCALL_PIO_PORT, isWrite: false, rdi: L2_UCALL_PAGE, inL2: true });
    expect(seen[0]!.uc).toEqual({ cmd: UCALL_SYNC, args: [0n, 1n, 0n, 0n, 0n, 0n] });
    expect(peek64(r.vm, L2_UCALL_PAGE)).toBe(BigInt(UCALL_SYNC)); // the struct is in L1's memory (EPT12 identity-maps the page)
    expect(r.exitReason()).toBe(EXIT_REASON_VMCALL); // the exit L1 saw is the later VMCALL, not the IN
    const st = r.nested.state(r.vcpu).stats;
    expect(st.nestedExits[EXIT_REASON_IO_INSTRUCTION]).toBeUndefined();
    expect(st.l0Exits[EXIT_REASON_IO_INSTRUCTION]).toBe(1);
    expect(peek64(r.vm, L1_PAGE0)).toBe(5n); // the store after the IN ran
  });

  it('L2’s ucall as machine code (ucallAsm / guestSyncAsm) does the same', () => {
    const seen: Seen[] = [];
    expect(assemble(guestSyncAsm(L2_UCALL_PAGE, true))).toEqual(assemble(ucallAsm(L2_UCALL_PAGE, UCALL_SYNC, [0n, 1n])));
    const code = assemble([...guestSyncAsm(L2_UCALL_PAGE, false), ...ucallAsm(L2_UCALL_PAGE + 0x100n, UCALL_DONE), { op: 'vmcall' }]);
    const r = rig('merged', { code, onIo: recorder(seen) });
    expect(r.l2().status).toBe('ok');
    expect(seen.map((s) => [s.inL2, s.rdi, s.uc.cmd, s.uc.args[1]])).toEqual([
      [true, L2_UCALL_PAGE, UCALL_SYNC, 0n],
      [true, L2_UCALL_PAGE + 0x100n, UCALL_DONE, 0n],
    ]);
    expect(r.exitReason()).toBe(EXIT_REASON_VMCALL);
  });
});
