/**
 * A vCPU fd: KVM_GET/SET_REGS, KVM_GET/SET_SREGS (struct layouts of
 * arch/x86/include/uapi/asm/kvm.h) and KVM_RUN with the shared kvm_run page.
 */
import * as abi from './kvm-abi.js';
import { check, libc } from './libc.js';
import type { HostMapping } from './mapping.js';

/** struct kvm_regs, in its field order. */
export const KVM_REGS_FIELDS = [
  'rax', 'rbx', 'rcx', 'rdx', 'rsi', 'rdi', 'rsp', 'rbp',
  'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15', 'rip', 'rflags',
] as const;
export type KvmRegs = Record<(typeof KVM_REGS_FIELDS)[number], bigint>;

/** struct kvm_segment (24 bytes). */
export interface KvmSegment {
  base: bigint;
  limit: number;
  selector: number;
  type: number;
  present: number;
  dpl: number;
  db: number;
  s: number;
  l: number;
  g: number;
  avl: number;
  unusable: number;
}

/** struct kvm_dtable (16 bytes). */
export interface KvmDtable {
  base: bigint;
  limit: number;
}

export const KVM_SREGS_SEGMENTS = ['cs', 'ds', 'es', 'fs', 'gs', 'ss', 'tr', 'ldt'] as const;
export const KVM_SREGS_CONTROL = ['cr0', 'cr2', 'cr3', 'cr4', 'cr8', 'efer', 'apicBase'] as const;

/** struct kvm_sregs; interrupt_bitmap is carried through unchanged. */
export type KvmSregs = Record<(typeof KVM_SREGS_SEGMENTS)[number], KvmSegment> &
  Record<(typeof KVM_SREGS_CONTROL)[number], bigint> & {
    gdt: KvmDtable;
    idt: KvmDtable;
    interruptBitmap: readonly bigint[];
  };

const SEG_BYTES = 24;
const DT_OFFSET = 8 * SEG_BYTES;
const CR_OFFSET = DT_OFFSET + 2 * 16;
const IRQ_OFFSET = CR_OFFSET + 7 * 8;

function readSeg(dv: DataView, o: number): KvmSegment {
  return {
    base: dv.getBigUint64(o, true),
    limit: dv.getUint32(o + 8, true),
    selector: dv.getUint16(o + 12, true),
    type: dv.getUint8(o + 14),
    present: dv.getUint8(o + 15),
    dpl: dv.getUint8(o + 16),
    db: dv.getUint8(o + 17),
    s: dv.getUint8(o + 18),
    l: dv.getUint8(o + 19),
    g: dv.getUint8(o + 20),
    avl: dv.getUint8(o + 21),
    unusable: dv.getUint8(o + 22),
  };
}

function writeSeg(dv: DataView, o: number, s: KvmSegment): void {
  dv.setBigUint64(o, s.base, true);
  dv.setUint32(o + 8, s.limit >>> 0, true);
  dv.setUint16(o + 12, s.selector, true);
  const bytes = [s.type, s.present, s.dpl, s.db, s.s, s.l, s.g, s.avl, s.unusable];
  bytes.forEach((b, i) => dv.setUint8(o + 14 + i, b));
}

/** Decodes a struct kvm_sregs buffer. */
export function decodeSregs(buf: Uint8Array): KvmSregs {
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const out: Record<string, unknown> = {};
  KVM_SREGS_SEGMENTS.forEach((n, i) => (out[n] = readSeg(dv, i * SEG_BYTES)));
  out['gdt'] = { base: dv.getBigUint64(DT_OFFSET, true), limit: dv.getUint16(DT_OFFSET + 8, true) };
  out['idt'] = { base: dv.getBigUint64(DT_OFFSET + 16, true), limit: dv.getUint16(DT_OFFSET + 24, true) };
  KVM_SREGS_CONTROL.forEach((n, i) => (out[n] = dv.getBigUint64(CR_OFFSET + 8 * i, true)));
  out['interruptBitmap'] = [0, 1, 2, 3].map((i) => dv.getBigUint64(IRQ_OFFSET + 8 * i, true));
  return out as KvmSregs;
}

/** Encodes a struct kvm_sregs buffer. */
export function encodeSregs(s: KvmSregs): Uint8Array {
  const buf = new Uint8Array(abi.SIZEOF_KVM_SREGS);
  const dv = new DataView(buf.buffer);
  KVM_SREGS_SEGMENTS.forEach((n, i) => writeSeg(dv, i * SEG_BYTES, s[n]));
  dv.setBigUint64(DT_OFFSET, s.gdt.base, true);
  dv.setUint16(DT_OFFSET + 8, s.gdt.limit, true);
  dv.setBigUint64(DT_OFFSET + 16, s.idt.base, true);
  dv.setUint16(DT_OFFSET + 24, s.idt.limit, true);
  KVM_SREGS_CONTROL.forEach((n, i) => dv.setBigUint64(CR_OFFSET + 8 * i, s[n], true));
  s.interruptBitmap.forEach((w, i) => dv.setBigUint64(IRQ_OFFSET + 8 * i, w, true));
  return buf;
}

/** What KVM_RUN returned to userspace. */
export interface KvmRunExit {
  readonly reason: number;
  /** For KVM_EXIT_IO / KVM_EXIT_MMIO: the port or physical address. */
  readonly address?: bigint;
}

export class KvmVcpu {
  readonly fd: number;
  readonly id: number;
  readonly run: HostMapping;
  private readonly onClose: () => void;
  private closed = false;

  constructor(fd: number, id: number, run: HostMapping, onClose: () => void) {
    this.fd = fd;
    this.id = id;
    this.run = run;
    this.onClose = onClose;
  }

  getRegs(): KvmRegs {
    const buf = new Uint8Array(abi.SIZEOF_KVM_REGS);
    check('KVM_GET_REGS', libc().ioctlPtr(this.fd, abi.KVM_GET_REGS, buf));
    const dv = new DataView(buf.buffer);
    const out: Partial<KvmRegs> = {};
    KVM_REGS_FIELDS.forEach((n, i) => (out[n] = dv.getBigUint64(8 * i, true)));
    return out as KvmRegs;
  }

  setRegs(r: KvmRegs): void {
    const buf = new Uint8Array(abi.SIZEOF_KVM_REGS);
    const dv = new DataView(buf.buffer);
    KVM_REGS_FIELDS.forEach((n, i) => dv.setBigUint64(8 * i, BigInt.asUintN(64, r[n]), true));
    check('KVM_SET_REGS', libc().ioctlPtr(this.fd, abi.KVM_SET_REGS, buf));
  }

  getSregs(): KvmSregs {
    const buf = new Uint8Array(abi.SIZEOF_KVM_SREGS);
    check('KVM_GET_SREGS', libc().ioctlPtr(this.fd, abi.KVM_GET_SREGS, buf));
    return decodeSregs(buf);
  }

  setSregs(s: KvmSregs): void {
    check('KVM_SET_SREGS', libc().ioctlPtr(this.fd, abi.KVM_SET_SREGS, encodeSregs(s)));
  }

  /** KVM_SET_MSRS: returns how many entries the kernel set (it stops at the first it refuses). */
  setMsrs(entries: readonly { readonly index: number; readonly value: bigint }[]): number {
    const buf = new Uint8Array(abi.SIZEOF_KVM_MSRS + abi.SIZEOF_KVM_MSR_ENTRY * entries.length);
    const dv = new DataView(buf.buffer);
    dv.setUint32(0, entries.length, true);
    entries.forEach((e, i) => {
      dv.setUint32(abi.SIZEOF_KVM_MSRS + i * abi.SIZEOF_KVM_MSR_ENTRY, e.index >>> 0, true);
      dv.setBigUint64(abi.SIZEOF_KVM_MSRS + i * abi.SIZEOF_KVM_MSR_ENTRY + 8, BigInt.asUintN(64, e.value), true);
    });
    return check('KVM_SET_MSRS', libc().ioctlPtr(this.fd, abi.KVM_SET_MSRS, buf));
  }

  /** KVM_GET_MSRS: the entries the kernel read (it stops at the first it refuses). */
  getMsrs(indices: readonly number[]): { index: number; value: bigint }[] {
    const buf = new Uint8Array(abi.SIZEOF_KVM_MSRS + abi.SIZEOF_KVM_MSR_ENTRY * indices.length);
    const dv = new DataView(buf.buffer);
    dv.setUint32(0, indices.length, true);
    indices.forEach((ix, i) => dv.setUint32(abi.SIZEOF_KVM_MSRS + i * abi.SIZEOF_KVM_MSR_ENTRY, ix >>> 0, true));
    const n = check('KVM_GET_MSRS', libc().ioctlPtr(this.fd, abi.KVM_GET_MSRS, buf));
    return indices.slice(0, n).map((index, i) => ({ index, value: dv.getBigUint64(abi.SIZEOF_KVM_MSRS + i * abi.SIZEOF_KVM_MSR_ENTRY + 8, true) }));
  }

  /** KVM_SET_TSC_KHZ (the argument is the ioctl's unsigned long; the kernel takes its low 32 bits). */
  setTscKhz(khz: bigint): void {
    check('KVM_SET_TSC_KHZ', libc().ioctlInt(this.fd, abi.KVM_SET_TSC_KHZ, BigInt.asUintN(64, khz)));
  }

  /** KVM_GET_TSC_KHZ. */
  getTscKhz(): bigint {
    const r = libc().ioctlLong(this.fd, abi.KVM_GET_TSC_KHZ, 0n);
    if (r < 0n) check('KVM_GET_TSC_KHZ', -1);
    return r;
  }

  /** KVM_KVMCLOCK_CTRL. */
  kvmclockCtrl(): void {
    check('KVM_KVMCLOCK_CTRL', libc().ioctlInt(this.fd, abi.KVM_KVMCLOCK_CTRL, 0n));
  }

  /** KVM_RUN once; returns kvm_run's exit reason (and the port/address of I/O and MMIO exits). */
  runOnce(): KvmRunExit {
    check('KVM_RUN', libc().ioctlInt(this.fd, abi.KVM_RUN, 0n));
    const reason = this.run.u32(abi.KVM_RUN_EXIT_REASON_OFFSET);
    const u = this.run.read(abi.KVM_RUN_EXIT_UNION_OFFSET, 16);
    const dv = new DataView(u.buffer);
    if (reason === abi.KVM_EXIT_IO) return { reason, address: BigInt(dv.getUint16(2, true)) };
    if (reason === abi.KVM_EXIT_MMIO) return { reason, address: dv.getBigUint64(0, true) };
    return { reason };
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.run.release();
    check('close', libc().close(this.fd));
    this.onClose();
  }
}
