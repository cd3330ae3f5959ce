/**
 * Argument checks for the public entry points, done before anything changes. A failure is a
 * KvmError with the errno the real ioctl would return for that kind of mistake:
 *   - a struct argument that is not a struct, or a buffer that is not a byte buffer: EFAULT
 *     (copy_from_user/copy_to_user of a bad pointer);
 *   - a field of the wrong type or outside its C type's range: EINVAL (the value could never
 *     reach KVM; the kernel's own range checks fail with EINVAL).
 * These are hand checks, not a schema library: several run on guest access paths where each
 * costs one `typeof` and two comparisons. Configuration objects (createHypervisor, scenario
 * options) go through zod instead (config-schema.ts, scenario.ts).
 */
import { KvmError } from './errors.js';

const U64_LIMIT = 1n << 64n;
/** The smallest signed 64-bit value: a register given as s64 (e.g. -1n) is the same bits as a u64. */
const S64_MIN = -(1n << 63n);

/** Shows any value in an error message without throwing (undefined, symbols, bigints, objects). */
export function show(v: unknown): string {
  if (typeof v === 'bigint') return `${v}n`;
  if (typeof v === 'string') return JSON.stringify(v);
  if (v === null || v === undefined || typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (typeof v === 'symbol') return v.toString();
  if (typeof v === 'function') return 'a function';
  if (Array.isArray(v)) return `an array of ${v.length}`;
  const name = (v as { constructor?: { name?: unknown } }).constructor?.name;
  return typeof name === 'string' && name !== '' ? `a ${name}` : 'an object';
}

/** Hex of an integer for messages, or show() of anything else. */
export function showHex(v: unknown): string {
  if (typeof v === 'bigint' && v >= 0n) return `0x${v.toString(16)}`;
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0) return `0x${v.toString(16)}`;
  return show(v);
}

function fail(errno: 'EINVAL' | 'EFAULT', what: string, v: unknown, rule: string, argument: string): never {
  throw new KvmError(errno, `${what} ${show(v)} ${rule}`, argument);
}

/** A struct passed by pointer: a non-null object (else EFAULT). */
export function assertStruct(v: unknown, what: string, argument = what): asserts v is object {
  if (typeof v !== 'object' || v === null) fail('EFAULT', what, v, 'is not a struct', argument);
}

/** A u64 field given as bigint: 0 ≤ v < 2^64. */
export function assertU64(v: unknown, what: string, argument = what): asserts v is bigint {
  if (typeof v !== 'bigint' || v < 0n || v >= U64_LIMIT) fail('EINVAL', what, v, 'is not a u64 (a bigint in 0..2^64-1)', argument);
}

/** A 64-bit register value: any bigint a 64-bit register holds, read as u64 or s64 (-2^63 … 2^64-1). */
export function assertReg64(v: unknown, what: string, argument = what): asserts v is bigint {
  if (typeof v !== 'bigint' || v < S64_MIN || v >= U64_LIMIT) fail('EINVAL', what, v, 'is not a 64-bit register value (a bigint in -2^63..2^64-1)', argument);
}

/** An integer `number` in [min, max] (a C int/u32/u16 field). */
export function assertInt(v: unknown, min: number, max: number, what: string, argument = what): asserts v is number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    fail('EINVAL', what, v, `is not an integer in ${min}..${max}`, argument);
  }
}

/** A u32 given as a number (0 … 2^32-1). */
export function assertU32(v: unknown, what: string, argument = what): asserts v is number {
  assertInt(v, 0, 0xffff_ffff, what, argument);
}

/** A 32-bit register value given as a number, read as u32 or s32 (-2^31 … 2^32-1). */
export function assertReg32(v: unknown, what: string, argument = what): asserts v is number {
  assertInt(v, -0x8000_0000, 0xffff_ffff, what, argument);
}

/** A buffer userspace passes (dirty_bitmap, nested state, guest bytes): a Uint8Array (else EFAULT). */
export function assertBytes(v: unknown, what: string, argument = what): asserts v is Uint8Array {
  if (!(v instanceof Uint8Array)) fail('EFAULT', what, v, 'is not a Uint8Array', argument);
}

/** A boolean flag. */
export function assertBool(v: unknown, what: string, argument = what): asserts v is boolean {
  if (typeof v !== 'boolean') fail('EINVAL', what, v, 'is not true or false', argument);
}

/** One of a fixed set of values. */
export function assertOneOf<T>(v: unknown, values: readonly T[], what: string, argument = what): asserts v is T {
  if (!values.includes(v as T)) fail('EINVAL', what, v, `is not one of ${values.map(show).join(', ')}`, argument);
}

/**
 * Runs an allocation and turns the engine's out-of-memory RangeError ("Array buffer allocation
 * failed", "Invalid typed array length") into ENOMEM, as kvzalloc() failing does in KVM.
 */
export function allocOrEnomem<T>(what: string, alloc: () => T): T {
  try {
    return alloc();
  } catch (e) {
    if (e instanceof RangeError) throw new KvmError('ENOMEM', `cannot allocate ${what}: ${e.message}`, what);
    throw e;
  }
}
