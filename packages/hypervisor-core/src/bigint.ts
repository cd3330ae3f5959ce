/** 64-bit helpers. Registers, GPAs, counters and ns timestamps are bigint (DESIGN.md §3). */
import { HOST_LITTLE_ENDIAN } from './bytes.js';

export const U64_MASK = (1n << 64n) - 1n;
export const U32_MASK = 0xffff_ffffn;

/** Wraps to an unsigned 64-bit value, as a 64-bit register would hold it (a value already in range is returned as is: no new bigint on every guest access). */
export const u64 = (v: bigint): bigint => (v >= 0n && v <= U64_MASK ? v : v & U64_MASK);
/** Truncates to an unsigned 32-bit value (C's `(u32)` cast). */
export const u32 = (v: bigint): bigint => v & U32_MASK;
/** Reinterprets the low 64 bits as signed (C's `(s64)` cast). */
export const s64 = (v: bigint): bigint => BigInt.asIntN(64, v);
/** Reinterprets the low 32 bits as signed (C's `(int)` cast). */
export const s32 = (v: bigint): bigint => BigInt.asIntN(32, v);

/** Converts to a JS number, refusing values a double cannot hold exactly. */
export function toSafeNumber(v: bigint, what = 'value'): number {
  if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER)) {
    throw new RangeError(`${what} ${v} does not fit a JS number exactly`);
  }
  return Number(v);
}

/** Hex with a 0x prefix, as the kernel prints it. */
export const hex = (v: bigint | number, width = 0): string =>
  `0x${v.toString(16).padStart(width, '0')}`;

/** mul_u64_u64_shr(): (a * b) >> shift with the full 128-bit product (include/linux/math64.h). */
export const mulU64U64Shr = (a: bigint, b: bigint, shift: bigint): bigint =>
  u64((u64(a) * u64(b)) >> shift);

/**
 * Reads/writes little-endian integers in guest byte arrays. Every guest load and store of the
 * models passes here: the bytes are moved as two 32-bit numbers (two bigint operations for a
 * 64-bit value, not sixteen); bytes past the end of the array read as 0, as before.
 */
export function readLe(bytes: Uint8Array, offset: number, size: 1 | 2 | 4 | 8): bigint {
  if (offset < 0 || offset + size > bytes.length) return readLeSlow(bytes, offset, size);
  if (size === 8) {
    if (HOST_LITTLE_ENDIAN) {
      for (let i = 0; i < 8; i++) U64_BYTES[i] = bytes[offset + i]!;
      return U64_WORD[0]!; // the one bigint of the result, no intermediates
    }
    return (BigInt(lo32(bytes, offset + 4, 4)) << 32n) | BigInt(lo32(bytes, offset, 4));
  }
  return BigInt(lo32(bytes, offset, size));
}

/**
 * A 64-bit word and its bytes: on a little-endian host (every machine Node runs on in practice),
 * a u64 moves between a bigint and guest bytes through it without an intermediate bigint.
 */
const U64_WORD = new BigUint64Array(1);
const U64_BYTES = new Uint8Array(U64_WORD.buffer);

/** Up to four bytes at `offset` as an unsigned number (all in range). */
function lo32(bytes: Uint8Array, offset: number, n: number): number {
  let x = 0;
  for (let i = n - 1; i >= 0; i--) x = x * 256 + bytes[offset + i]!;
  return x;
}

function readLeSlow(bytes: Uint8Array, offset: number, size: number): bigint {
  let v = 0n;
  for (let i = size - 1; i >= 0; i--) v = (v << 8n) | BigInt(bytes[offset + i] ?? 0);
  return v;
}

export function writeLe(bytes: Uint8Array, offset: number, size: 1 | 2 | 4 | 8, value: bigint): void {
  if (size === 8) {
    if (HOST_LITTLE_ENDIAN && offset >= 0 && offset + 8 <= bytes.length && typeof value === 'bigint') {
      U64_WORD[0] = value; // the low 64 bits, two's complement: BigInt.asUintN(64, value)
      for (let i = 0; i < 8; i++) bytes[offset + i] = U64_BYTES[i]!;
      return;
    }
    const v = BigInt.asUintN(64, value);
    putLo32(bytes, offset, 4, Number(v & 0xffff_ffffn));
    putLo32(bytes, offset + 4, 4, Number(v >> 32n));
    return;
  }
  putLo32(bytes, offset, size, Number(BigInt.asUintN(size * 8, value)));
}

/** The low `n` (≤ 4) bytes of the unsigned number `x`, little-endian (stores past the end are dropped, as typed arrays do). */
function putLo32(bytes: Uint8Array, offset: number, n: number, x: number): void {
  for (let i = 0; i < n; i++) {
    bytes[offset + i] = x & 0xff;
    x = Math.floor(x / 256);
  }
}

/** U64_WORD's two 32-bit halves (bits 31:0 first on a little-endian host). */
const U64_HALVES = new Uint32Array(U64_WORD.buffer);

/**
 * The low 64 bits of `value` (two's complement, as a register holds it) as two 32-bit halves:
 * out[0] = bits 31:0, out[1] = bits 63:32. The bytes leBytes(8, value) would hold, with no
 * array or intermediate bigint made.
 */
export function u64Halves(value: bigint, out: Uint32Array): void {
  if (HOST_LITTLE_ENDIAN) {
    U64_WORD[0] = value;
    out[0] = U64_HALVES[0]!;
    out[1] = U64_HALVES[1]!;
    return;
  }
  const v = BigInt.asUintN(64, value);
  out[0] = Number(v & 0xffff_ffffn);
  out[1] = Number(v >> 32n);
}

export function leBytes(size: 1 | 2 | 4 | 8, value: bigint): Uint8Array {
  const b = new Uint8Array(size);
  writeLe(b, 0, size, value);
  return b;
}
