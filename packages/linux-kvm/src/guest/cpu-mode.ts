/**
 * Putting a fresh vCPU into a mode through KVM_SET_SREGS, with no firmware: the hidden parts
 * of the segment registers are loaded directly, so no GDT is needed. Values: Intel SDM vol. 3
 * (CR0.PE, segment descriptor types).
 */
import type { KvmSegment, KvmSregs } from '../ffi/vcpu.js';
import type { GuestMode } from './codegen.js';

export const X86_CR0_PE = 1n << 0n; // Intel SDM vol. 3 §2.5: protection enable
export const X86_RFLAGS_FIXED = 1n << 1n; // Intel SDM vol. 1 §3.4.3: bit 1 is always 1
export const SEG_TYPE_CODE_RX_ACCESSED = 0xb; // Intel SDM vol. 3 §3.4.5.1: execute/read, accessed
export const SEG_TYPE_DATA_RW_ACCESSED = 0x3; // Intel SDM vol. 3 §3.4.5.1: read/write, accessed

function seg(base: bigint, limit: number, selector: number, type: number, db: number, g: number): KvmSegment {
  return { base, limit, selector, type, present: 1, dpl: 0, db, s: 1, l: 0, g, avl: 0, unusable: 0 };
}

/**
 * The SREGS that run code at `codeGpa` in `mode` with RIP = the returned `rip`: real mode uses
 * CS = codeGpa >> 4 (codeGpa must be 16-byte aligned and below 1 MiB); flat32 uses 4 GiB
 * segments with base 0.
 */
export function sregsFor(mode: GuestMode, base: KvmSregs, codeGpa: bigint): { sregs: KvmSregs; rip: bigint } {
  if (mode === 'real16') {
    if ((codeGpa & 0xfn) !== 0n || codeGpa >= 0x10_0000n) throw new RangeError('real-mode code must be 16-byte aligned below 1 MiB');
    const sel = Number(codeGpa >> 4n);
    const data = seg(0n, 0xffff, 0, SEG_TYPE_DATA_RW_ACCESSED, 0, 0);
    return {
      sregs: { ...base, cs: seg(codeGpa, 0xffff, sel, SEG_TYPE_CODE_RX_ACCESSED, 0, 0), ds: data, es: data, fs: data, gs: data, ss: data, cr0: base.cr0 & ~X86_CR0_PE },
      rip: 0n,
    };
  }
  const code = seg(0n, 0xffff_ffff, 0x8, SEG_TYPE_CODE_RX_ACCESSED, 1, 1);
  const data = seg(0n, 0xffff_ffff, 0x10, SEG_TYPE_DATA_RW_ACCESSED, 1, 1);
  return {
    sregs: { ...base, cs: code, ds: data, es: data, fs: data, gs: data, ss: data, cr0: base.cr0 | X86_CR0_PE },
    rip: codeGpa,
  };
}
