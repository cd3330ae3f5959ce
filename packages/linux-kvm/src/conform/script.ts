/**
 * The ABI script format: a JSON list of steps that runs unchanged against the real kernel and
 * against hypervisor-core's model. 64-bit values are strings ("0x…" or decimal) so that the
 * scripts stay plain JSON; bitmaps and page lists are page ranges ("0-63,70").
 */
import type { KvmclockCall } from './kvmclock-port.js';

/** A 64-bit value in JSON: a decimal or 0x-prefixed hex string, or a safe integer. */
export type U64 = string | number;

/** One ABI call. `era` documents a known difference between kernel eras at this step. */
export type Step = StepBody & { readonly era?: string };

export type StepBody =
  /** KVM_CHECK_EXTENSION on /dev/kvm ('system') or on the VM fd. */
  | { readonly op: 'checkExtension'; readonly on: 'system' | 'vm'; readonly cap: number; readonly name?: string }
  /** KVM_ENABLE_CAP on the VM fd. */
  | { readonly op: 'enableCap'; readonly cap: number; readonly args?: readonly U64[]; readonly flags?: number }
  /** KVM_SET_USER_MEMORY_REGION (the host memory is the runner's business). */
  | { readonly op: 'setMemslot'; readonly slot: number; readonly flags: number; readonly gpa: U64; readonly size: U64 }
  /** KVM_CREATE_VCPU. */
  | { readonly op: 'createVcpu'; readonly id: number }
  /**
   * The guest stores bytes: `writes` (hex bytes at a GPA) and/or one byte `value` at offset
   * `offset` (default 0) of each listed page of the region starting at `base`.
   */
  | {
      readonly op: 'guestWrite';
      readonly writes?: readonly { readonly gpa: U64; readonly hex: string }[];
      readonly pages?: { readonly base: U64; readonly list: string; readonly value: number; readonly offset?: number };
    }
  /** KVM_GET_DIRTY_LOG (the buffer is sized from the slot the script made, 8 bytes if none). */
  | { readonly op: 'getDirtyLog'; readonly slot: number }
  /**
   * KVM_CLEAR_DIRTY_LOG; `bits` are page ranges relative to firstPage, or null for a NULL
   * bitmap pointer.
   */
  | { readonly op: 'clearDirtyLog'; readonly slot: number; readonly firstPage: U64; readonly numPages: number; readonly bits: string | null }
  /** The VMM reads guest memory (bytes as hex). */
  | { readonly op: 'readMemory'; readonly gpa: U64; readonly length: number }
  /** A kvmclock ioctl or guest run (kvmclock-port.ts); needs a kvmclock model on the model side. */
  | { readonly op: 'kvmclock'; readonly call: KvmclockCall };

export interface Script {
  readonly name: string;
  readonly title: string;
  readonly steps: readonly Step[];
  /** 'kvmclock': the model side needs ConformanceOptions.kvmclock (ptp-kvm-x86's host). */
  readonly needs?: 'kvmclock';
}

/** What one step returned: the ioctl's value or errno, and any data it produced. */
export interface StepResult {
  /** Return value (0 for calls that return nothing), or null when the call failed. */
  readonly ret: number | null;
  readonly errno: string | null;
  /** Dirty bitmap as page ranges. */
  readonly bitmap?: string;
  /** Memory bytes as hex. */
  readonly bytes?: string;
  /** Machine-independent relations and values a kvmclock step observed. */
  readonly facts?: string;
}

export function u64(v: U64): bigint {
  return typeof v === 'number' ? BigInt(v) : BigInt(v);
}

export function hexToBytes(hex: string): Uint8Array {
  if (hex.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(hex)) throw new Error(`bad hex "${hex}"`);
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

export function bytesToHex(b: Uint8Array): string {
  let s = '';
  for (const x of b) s += x.toString(16).padStart(2, '0');
  return s;
}

/** "0-3,7" → [0, 1, 2, 3, 7]; "" → []. Ranges may also be written "a-b/step". */
export function parseRanges(r: string): number[] {
  const out: number[] = [];
  if (r.trim() === '') return out;
  for (const part of r.split(',')) {
    const m = /^(\d+)(?:-(\d+)(?:\/(\d+))?)?$/.exec(part.trim());
    if (m === null) throw new Error(`bad page range "${part}"`);
    const a = Number(m[1]);
    const b = m[2] === undefined ? a : Number(m[2]);
    const step = m[3] === undefined ? 1 : Number(m[3]);
    for (let p = a; p <= b; p += step) out.push(p);
  }
  return out;
}

/** A KVM-layout bitmap (bit i = byte i >> 3, bit i & 7) as page ranges, run-length coded. */
export function bitmapToRanges(bm: Uint8Array): string {
  const parts: string[] = [];
  let start = -1;
  const total = bm.length * 8;
  for (let p = 0; p <= total; p++) {
    const set = p < total && (bm[p >>> 3]! & (1 << (p & 7))) !== 0;
    if (set && start < 0) start = p;
    if (!set && start >= 0) {
      parts.push(p - 1 === start ? `${start}` : `${start}-${p - 1}`);
      start = -1;
    }
    // Skip clean bytes quickly.
    if (!set && start < 0 && (p & 7) === 7 && p + 1 < total && bm[(p + 1) >>> 3] === 0) {
      let q = (p + 1) >>> 3;
      while (q < bm.length && bm[q] === 0) q++;
      p = q * 8 - 1;
    }
  }
  return parts.join(',');
}

/** Page ranges → a KVM-layout bitmap of `bytes` bytes. */
export function rangesToBitmap(r: string, bytes: number): Uint8Array {
  const bm = new Uint8Array(bytes);
  for (const p of parseRanges(r)) {
    if (p >>> 3 >= bytes) throw new Error(`page ${p} outside a ${bytes}-byte bitmap`);
    bm[p >>> 3]! |= 1 << (p & 7);
  }
  return bm;
}

/** The byte stores a guestWrite step asks for, in order. */
export function guestWriteList(step: Extract<StepBody, { op: 'guestWrite' }>): { gpa: bigint; bytes: Uint8Array }[] {
  const out = (step.writes ?? []).map((w) => ({ gpa: u64(w.gpa), bytes: hexToBytes(w.hex) }));
  if (step.pages !== undefined) {
    const base = u64(step.pages.base);
    const off = BigInt(step.pages.offset ?? 0);
    for (const p of parseRanges(step.pages.list)) {
      out.push({ gpa: base + (BigInt(p) << 12n) + off, bytes: Uint8Array.of(step.pages.value & 0xff) });
    }
  }
  return out;
}

/** One canonical string per result, for comparing and printing. */
export function formatResult(r: StepResult): string {
  const head = r.errno !== null ? r.errno : `${r.ret}`;
  const extra = [r.bitmap !== undefined ? `bits[${r.bitmap}]` : '', r.bytes !== undefined ? `mem[${r.bytes}]` : '', r.facts !== undefined && r.facts !== '' ? `{${r.facts}}` : '']
    .filter((s) => s !== '')
    .join(' ');
  return extra === '' ? head : `${head} ${extra}`;
}
