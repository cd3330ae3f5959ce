/**
 * A tiny x86 guest-code generator: straight-line code that stores given bytes at given guest
 * physical addresses and then executes HLT. No firmware, no stack, no interrupts: the vCPU is
 * put in its mode through KVM_SET_SREGS (see cpu-mode.ts).
 *
 * - 32-bit flat protected mode: `mov dword [disp32], imm32` (C7 05) and `mov byte [disp32],
 *   imm8` (C6 05); any GPA below 4 GiB.
 * - 16-bit real mode: `mov ax, imm16; mov ds, ax` (B8, 8E D8) to point DS at the paragraph, then
 *   `mov byte [disp16], imm8` (C6 06); GPAs below 1 MiB + 64 KiB.
 * Opcodes: Intel SDM vol. 2 (MOV, HLT).
 */

export type GuestMode = 'real16' | 'flat32';

/** One store the guest performs. */
export interface GuestWrite {
  readonly gpa: bigint;
  readonly bytes: Uint8Array;
}

export const OP_HLT = 0xf4; // Intel SDM vol. 2: HLT
export const OP_MOV_RM32_IMM32 = 0xc7; // Intel SDM vol. 2: MOV r/m32, imm32 (C7 /0)
export const OP_MOV_RM8_IMM8 = 0xc6; // Intel SDM vol. 2: MOV r/m8, imm8 (C6 /0)
export const MODRM_DISP32 = 0x05; // mod 00, r/m 101: [disp32] in 32-bit addressing
export const MODRM_DISP16 = 0x06; // mod 00, r/m 110: [disp16] in 16-bit addressing
export const OP_MOV_AX_IMM16 = 0xb8; // Intel SDM vol. 2: MOV r16, imm16 (B8+rw)
export const OP_MOV_SREG_RM16 = 0x8e; // Intel SDM vol. 2: MOV Sreg, r/m16 (8E /r)
export const MODRM_DS_AX = 0xd8; // mod 11, reg 011 (DS), r/m 000 (AX)
export const OP_MOV_EAX_IMM32 = 0xb8; // Intel SDM vol. 2: MOV r32, imm32 (B8+rd), EAX
export const OP_MOV_ECX_IMM32 = 0xb9; // Intel SDM vol. 2: MOV r32, imm32 (B8+rd), ECX
export const OP_MOV_EDX_IMM32 = 0xba; // Intel SDM vol. 2: MOV r32, imm32 (B8+rd), EDX
export const OP_WRMSR = [0x0f, 0x30] as const; // Intel SDM vol. 2: WRMSR (ECX = index, EDX:EAX = value)

/** Highest GPA (exclusive) each mode can store to. */
export const MODE_LIMIT: Record<GuestMode, bigint> = { real16: 0x10_ffefn + 1n, flat32: 1n << 32n };

class Emitter {
  readonly out: number[] = [];
  u8(...b: number[]): void {
    this.out.push(...b);
  }
  u16(v: number): void {
    this.out.push(v & 0xff, (v >>> 8) & 0xff);
  }
  u32(v: number): void {
    for (let i = 0; i < 4; i++) this.out.push((v >>> (8 * i)) & 0xff);
  }
}

function emitFlat32(e: Emitter, w: GuestWrite): void {
  let i = 0;
  const base = Number(w.gpa);
  const b = w.bytes;
  while (i < b.length) {
    const addr = (base + i) >>> 0;
    if (b.length - i >= 4) {
      e.u8(OP_MOV_RM32_IMM32, MODRM_DISP32);
      e.u32(addr);
      e.u8(b[i]!, b[i + 1]!, b[i + 2]!, b[i + 3]!);
      i += 4;
    } else {
      e.u8(OP_MOV_RM8_IMM8, MODRM_DISP32);
      e.u32(addr);
      e.u8(b[i]!);
      i += 1;
    }
  }
}

function emitReal16(e: Emitter, w: GuestWrite, ds: { value: number }): void {
  for (let i = 0; i < w.bytes.length; i++) {
    const addr = Number(w.gpa) + i;
    // DS = the paragraph of the address, rounded down to 64 KiB windows when it fits.
    let seg = Math.min(addr >>> 4, 0xffff) & ~0xfff;
    if (addr - seg * 16 > 0xffff) seg = Math.min(addr >>> 4, 0xffff);
    if (ds.value !== seg) {
      e.u8(OP_MOV_AX_IMM16);
      e.u16(seg);
      e.u8(OP_MOV_SREG_RM16, MODRM_DS_AX);
      ds.value = seg;
    }
    e.u8(OP_MOV_RM8_IMM8, MODRM_DISP16);
    e.u16(addr - seg * 16);
    e.u8(w.bytes[i]!);
  }
}

/**
 * Machine code that performs `writes` in order and halts. Throws RangeError for a GPA the
 * mode cannot reach (a host-side mistake, not something a guest does).
 */
export function generateGuestCode(mode: GuestMode, writes: readonly GuestWrite[]): Uint8Array {
  const e = new Emitter();
  const ds = { value: -1 };
  for (const w of writes) {
    if (w.gpa < 0n || w.gpa + BigInt(w.bytes.length) > MODE_LIMIT[mode]) {
      throw new RangeError(`GPA 0x${w.gpa.toString(16)} (+${w.bytes.length}) is out of reach in ${mode} mode`);
    }
    if (mode === 'flat32') emitFlat32(e, w);
    else emitReal16(e, w, ds);
  }
  e.u8(OP_HLT);
  return Uint8Array.from(e.out);
}

/** One WRMSR the guest performs. */
export interface GuestWrmsr {
  readonly index: number;
  readonly value: bigint;
}

/**
 * 32-bit flat-mode code that writes each MSR (`mov ecx, index; mov eax, lo; mov edx, hi;
 * wrmsr`) and halts: a guest WRMSR, which KVM handles with host_initiated = false.
 */
export function generateWrmsrCode(msrs: readonly GuestWrmsr[]): Uint8Array {
  const e = new Emitter();
  for (const m of msrs) {
    const v = BigInt.asUintN(64, m.value);
    e.u8(OP_MOV_ECX_IMM32);
    e.u32(m.index >>> 0);
    e.u8(OP_MOV_EAX_IMM32);
    e.u32(Number(v & 0xffff_ffffn));
    e.u8(OP_MOV_EDX_IMM32);
    e.u32(Number(v >> 32n));
    e.u8(...OP_WRMSR);
  }
  e.u8(OP_HLT);
  return Uint8Array.from(e.out);
}
