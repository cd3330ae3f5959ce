/**
 * kvmclock conformance: one `kvmclock` step calls a VMM-side kvmclock ioctl (or runs the guest)
 * through a KvmclockPort, which the kernel target implements with /dev/kvm and the model
 * target with ptp-kvm-x86's host API. Values that depend on the machine (the host TSC rate,
 * CLOCK_REALTIME, TSC readings) are turned into relations here, the same code on both sides,
 * so one recording checks the model on any machine.
 */
import { kvmGetTimeScale } from '@kvmlab/hypervisor-core';
import type { U64 } from './script.js';

/** struct kvm_clock_data (include/uapi/linux/kvm.h). */
export interface ClockData {
  readonly clock: bigint;
  readonly flags: number;
  readonly realtime: bigint;
  readonly hostTsc: bigint;
}

export interface MsrValue {
  readonly index: number;
  readonly value: bigint;
}

/** What a target offers a kvmclock step; every call throws KvmError with the kernel's errno. */
export interface KvmclockPort {
  /** The host TSC rate: KVM_GET_TSC_KHZ of a fresh vCPU. */
  readonly hostTscKhz: bigint;
  /** CLOCK_REALTIME now, ns, on the target's own host clock. */
  realtimeNs(): bigint;
  setMsrs(msrs: readonly MsrValue[]): number;
  getMsrs(indices: readonly number[]): MsrValue[];
  /** KVM_RUN of a guest that halts at once (after the given WRMSRs). */
  run(wrmsrs: readonly MsrValue[]): void;
  getClock(): ClockData;
  setClock(d: ClockData): void;
  kvmclockCtrl(): void;
  setTscKhz(arg: bigint): void;
  getTscKhz(): bigint;
  readMemory(gpa: bigint, length: number): Uint8Array;
}

/** A TSC rate in a script: relative to the host's (`plus` kHz), or an absolute ioctl argument. */
export type RateSpec = { readonly host: true; readonly plus?: number } | { readonly abs: U64 };

export type KvmclockCall =
  | { readonly k: 'setMsrs'; readonly msrs: readonly { readonly index: number; readonly value: U64 }[] }
  | { readonly k: 'getMsrs'; readonly indices: readonly number[] }
  | { readonly k: 'run' }
  | { readonly k: 'guestWrmsr'; readonly msrs: readonly { readonly index: number; readonly value: U64 }[] }
  | { readonly k: 'readPvclock'; readonly gpa: U64 }
  | { readonly k: 'readWallClock'; readonly gpa: U64 }
  | { readonly k: 'getClock' }
  /** KVM_SET_CLOCK; `realtimeAgoMs` sets `realtime` that long before now (with KVM_CLOCK_REALTIME). */
  | { readonly k: 'setClock'; readonly clock: U64; readonly flags: number; readonly realtimeAgoMs?: number }
  | { readonly k: 'kvmclockCtrl' }
  | { readonly k: 'setTscKhz'; readonly rate: RateSpec }
  | { readonly k: 'getTscKhz' };

/** What a kvmclock step remembers between steps (per target run). */
export interface KvmclockMemo {
  versions: Map<bigint, number>;
  lastClock?: bigint;
  lastHostTsc?: bigint;
  /** The clock the last KVM_SET_CLOCK asked for (0 at VM creation). */
  clockBase: bigint;
}

export const newKvmclockMemo = (): KvmclockMemo => ({ versions: new Map(), clockBase: 0n });

const MSR_IA32_TSC = 0x10; // arch/x86/include/asm/msr-index.h
const NSEC_PER_SEC = 1_000_000_000n; // include/vdso/time64.h
const PVCLOCK_FLAGS = ['TSC_STABLE', 'GUEST_STOPPED'] as const; // arch/x86/include/asm/pvclock-abi.h bits 0, 1
const CLOCK_FLAGS: readonly (readonly [number, string])[] = [[2, 'TSC_STABLE'], [4, 'REALTIME'], [8, 'HOST_TSC']]; // include/uapi/linux/kvm.h

function flagNames(flags: number, names: readonly (readonly [number, string])[]): string {
  const on = names.filter(([b]) => (flags & b) !== 0).map(([, n]) => n);
  const rest = names.reduce((f, [b]) => f & ~b, flags);
  if (rest !== 0) on.push(`0x${rest.toString(16)}`);
  return on.length === 0 ? '0' : on.join('|');
}

/**
 * A kHz value as seen from the host rate: "host", "host+100" (within half the host rate), or
 * the absolute number (a script's absolute rates, which do not depend on the machine).
 */
export function relKhz(khz: bigint, host: bigint): string {
  const d = khz - host;
  if (d === 0n) return 'host';
  return 2n * (d < 0n ? -d : d) < host ? `host${d > 0n ? '+' : ''}${d}` : `${khz}`;
}

const le32 = (b: Uint8Array, o: number): number => (b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16) | (b[o + 3]! << 24)) >>> 0;
const le64 = (b: Uint8Array, o: number): bigint => BigInt(le32(b, o)) | (BigInt(le32(b, o + 4)) << 32n);
const within = (a: bigint, b: bigint, tol: bigint): boolean => (a > b ? a - b : b - a) <= tol;
const MS = 1_000_000n;

/** __pvclock_read_cycles() (arch/x86/include/asm/pvclock.h). */
function pvclockAt(ts: bigint, sys: bigint, mul: bigint, shift: number, tsc: bigint): bigint {
  let delta = BigInt.asUintN(64, tsc - ts);
  delta = shift < 0 ? delta >> BigInt(-shift) : BigInt.asUintN(64, delta << BigInt(shift));
  return BigInt.asUintN(64, sys + ((delta * mul) >> 32n));
}

function readPvclock(p: KvmclockPort, memo: KvmclockMemo, gpa: bigint): string {
  const b = p.readMemory(gpa, 32);
  const version = le32(b, 0);
  const prev = memo.versions.get(gpa) ?? 0;
  memo.versions.set(gpa, version);
  const head = `v=${version} ${version % 2 === 0 ? 'even' : 'odd'} +${version - prev}`;
  if (version === 0) return `${head} unwritten`;
  const ts = le64(b, 8);
  const sys = le64(b, 16);
  const mul = BigInt(le32(b, 24));
  const shift = (b[28]! << 24) >> 24;
  const flags = flagNames(b[29]!, PVCLOCK_FLAGS.map((n, i) => [1 << i, n] as const));
  const ref = kvmGetTimeScale(NSEC_PER_SEC, p.hostTscKhz * 1000n); // what the kernel should give for the host rate
  const scale = ref.mul === mul && ref.shift === shift ? 'scale=host' : `mul=0x${mul.toString(16)} shift=${shift}`;
  // tsc_timestamp vs system_time: the guest's kvmclock at its TSC now is KVM_GET_CLOCK's. The
  // TSC read is bracketed by two KVM_GET_CLOCKs (no side effects), so a host that preempts the
  // VMM between the ioctls widens the window instead of failing the relation.
  const before = p.getClock().clock;
  const tsc = p.getMsrs([MSR_IA32_TSC])[0]?.value ?? 0n;
  const now = p.getClock().clock;
  const pvNow = pvclockAt(ts, sys, mul, shift, tsc);
  const rel = [
    ts <= tsc ? 'ts≤tsc' : 'ts>tsc',
    sys <= now ? 'sys≤clock' : 'sys>clock',
    pvNow >= before - MS && pvNow <= now + MS ? 'pv(tsc)≈clock' : 'pv(tsc)≠clock',
  ];
  return `${head} flags=${flags} ${scale} ${rel.join(' ')}`;
}

function readWallClock(p: KvmclockPort, gpa: bigint): string {
  const b = p.readMemory(gpa, 12);
  const version = le32(b, 0);
  if (version === 0) return 'v=0 unwritten';
  const epoch = BigInt(le32(b, 4)) * NSEC_PER_SEC + BigInt(le32(b, 8));
  const clock = p.getClock().clock;
  const nsecOk = le32(b, 8) < 1_000_000_000;
  return `v=${version} ${nsecOk ? 'nsec<1e9' : 'nsec≥1e9'} ${within(epoch + clock, p.realtimeNs(), 1000n * MS) ? 'epoch+clock≈realtime' : 'epoch+clock≠realtime'}`;
}

function getClock(p: KvmclockPort, memo: KvmclockMemo): string {
  const d = p.getClock();
  const since = d.clock - memo.clockBase;
  const parts = [`flags=${flagNames(d.flags, CLOCK_FLAGS)}`];
  parts.push(since >= 0n && since < 1000n * MS ? 'clock-base∈[0,1s)' : 'clock-base∉[0,1s)');
  if (memo.lastClock !== undefined) parts.push(d.clock >= memo.lastClock ? 'clock≥prev' : 'clock<prev');
  parts.push(d.realtime === 0n ? 'realtime=0' : within(d.realtime, p.realtimeNs(), 1000n * MS) ? 'realtime≈now' : 'realtime≠now');
  if (d.hostTsc === 0n) parts.push('host_tsc=0');
  else parts.push(memo.lastHostTsc === undefined ? 'host_tsc>0' : d.hostTsc > memo.lastHostTsc ? 'host_tsc>prev' : 'host_tsc≤prev');
  memo.lastClock = d.clock;
  if (d.hostTsc !== 0n) memo.lastHostTsc = d.hostTsc;
  return parts.join(' ');
}

const rateArg = (r: RateSpec, host: bigint): bigint => ('abs' in r ? BigInt(r.abs) : host + BigInt(r.plus ?? 0));

/** Runs one kvmclock call; returns its value (or throws the KvmError) and its facts. */
export function runKvmclockCall(p: KvmclockPort, memo: KvmclockMemo, c: KvmclockCall): { ret: number; facts?: string } {
  switch (c.k) {
    case 'setMsrs':
      return { ret: p.setMsrs(c.msrs.map((m) => ({ index: m.index, value: BigInt(m.value) }))) };
    case 'getMsrs': {
      const vs = p.getMsrs(c.indices);
      return { ret: vs.length, facts: vs.map((m) => `0x${m.index.toString(16)}=0x${m.value.toString(16)}`).join(' ') };
    }
    case 'run':
      p.run([]);
      return { ret: 0, facts: 'hlt' };
    case 'guestWrmsr':
      p.run(c.msrs.map((m) => ({ index: m.index, value: BigInt(m.value) })));
      return { ret: 0, facts: 'hlt' };
    case 'readPvclock':
      return { ret: 0, facts: readPvclock(p, memo, BigInt(c.gpa)) };
    case 'readWallClock':
      return { ret: 0, facts: readWallClock(p, BigInt(c.gpa)) };
    case 'getClock':
      return { ret: 0, facts: getClock(p, memo) };
    case 'setClock': {
      const realtime = c.realtimeAgoMs === undefined ? 0n : p.realtimeNs() - BigInt(c.realtimeAgoMs) * MS;
      p.setClock({ clock: BigInt(c.clock), flags: c.flags, realtime, hostTsc: 0n });
      memo.clockBase = BigInt(c.clock) + (c.realtimeAgoMs === undefined ? 0n : BigInt(c.realtimeAgoMs) * MS);
      memo.lastClock = undefined;
      return { ret: 0 };
    }
    case 'kvmclockCtrl':
      p.kvmclockCtrl();
      return { ret: 0 };
    case 'setTscKhz':
      p.setTscKhz(rateArg(c.rate, p.hostTscKhz));
      return { ret: 0 };
    case 'getTscKhz':
      return { ret: 0, facts: relKhz(p.getTscKhz(), p.hostTscKhz) };
  }
}

/** The step in a few words. */
export function describeKvmclockCall(c: KvmclockCall): string {
  const msrs = (ms: readonly { index: number; value: U64 }[]): string => ms.map((m) => `0x${m.index.toString(16)}=${String(m.value)}`).join(',');
  switch (c.k) {
    case 'setMsrs':
      return `KVM_SET_MSRS ${msrs(c.msrs)}`;
    case 'getMsrs':
      return `KVM_GET_MSRS ${c.indices.map((i) => `0x${i.toString(16)}`).join(',')}`;
    case 'run':
      return 'KVM_RUN (guest halts at once)';
    case 'guestWrmsr':
      return `KVM_RUN (guest WRMSR ${msrs(c.msrs)}, HLT)`;
    case 'readPvclock':
      return `read pvclock_vcpu_time_info@${String(c.gpa)}`;
    case 'readWallClock':
      return `read pvclock_wall_clock@${String(c.gpa)}`;
    case 'getClock':
      return 'KVM_GET_CLOCK';
    case 'setClock':
      return `KVM_SET_CLOCK clock=${String(c.clock)} flags=${c.flags}${c.realtimeAgoMs !== undefined ? ` realtime=now-${c.realtimeAgoMs}ms` : ''}`;
    case 'kvmclockCtrl':
      return 'KVM_KVMCLOCK_CTRL';
    case 'setTscKhz':
      return `KVM_SET_TSC_KHZ ${'abs' in c.rate ? String(c.rate.abs) : `host${c.rate.plus ? (c.rate.plus > 0 ? `+${c.rate.plus}` : c.rate.plus) : ''}`}`;
    case 'getTscKhz':
      return 'KVM_GET_TSC_KHZ';
  }
}
