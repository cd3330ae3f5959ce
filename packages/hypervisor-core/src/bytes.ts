/**
 * Byte-array equality and zero tests that run in a browser too. Under Node the host's native
 * compare (Buffer.compare, a memcmp) does the work: a 4 KiB page compares at memory bandwidth,
 * several times faster than a JavaScript loop, which matters to a migration comparing every
 * page it sent. Without Buffer (a browser) the same answer comes from a loop over 32-bit lanes
 * where both arrays allow it, bytes otherwise. Buffer is looked up on globalThis, not imported,
 * so bundlers pull in no Node polyfill.
 */
type NativeCompare = (a: Uint8Array, b: Uint8Array) => number;

const nativeCompare: NativeCompare | undefined = (() => {
  const B = (globalThis as { Buffer?: { compare?: unknown } }).Buffer;
  return typeof B?.compare === 'function' ? (B.compare as NativeCompare).bind(B) : undefined;
})();

/** The host stores a multi-byte number's low byte first (so a Uint32Array view of a u64 array has the low half at even indices). */
export const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** Zeros to compare against: one page's worth, reused for longer arrays in slices. */
const ZEROS = new Uint8Array(4096);

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  if (nativeCompare !== undefined) return nativeCompare(a, b) === 0;
  return bytesEqualPortable(a, b);
}

/** Whether every byte of `a` is zero. */
export function isZeroBytes(a: Uint8Array): boolean {
  if (nativeCompare === undefined) return isZeroPortable(a);
  for (let off = 0; off < a.length; off += ZEROS.length) {
    const n = Math.min(ZEROS.length, a.length - off);
    const part = n === a.length ? a : a.subarray(off, off + n);
    if (nativeCompare(part, n === ZEROS.length ? ZEROS : ZEROS.subarray(0, n)) !== 0) return false;
  }
  return true;
}

/** The JavaScript-only comparison (exported for the tests, which check both paths agree). */
export function bytesEqualPortable(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  const n = a.length;
  if (a.byteOffset % 4 === 0 && b.byteOffset % 4 === 0 && n % 4 === 0) {
    const wa = new Uint32Array(a.buffer, a.byteOffset, n >>> 2);
    const wb = new Uint32Array(b.buffer, b.byteOffset, n >>> 2);
    for (let i = 0; i < wa.length; i++) if (wa[i] !== wb[i]) return false;
    return true;
  }
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** The JavaScript-only zero test. */
export function isZeroPortable(a: Uint8Array): boolean {
  const n = a.length;
  if (a.byteOffset % 4 === 0 && n % 4 === 0) {
    const w = new Uint32Array(a.buffer, a.byteOffset, n >>> 2);
    for (let i = 0; i < w.length; i++) if (w[i] !== 0) return false;
    return true;
  }
  for (let i = 0; i < n; i++) if (a[i] !== 0) return false;
  return true;
}
