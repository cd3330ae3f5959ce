/**
 * Byte layouts shared by host and guest: struct pvclock_vcpu_time_info (32 bytes, packed,
 * arch/x86/include/asm/pvclock-abi.h) and struct kvm_clock_pairing (64 bytes,
 * arch/x86/include/uapi/asm/kvm_para.h). Little-endian, as x86 stores them.
 */
import { readLe, s64, writeLe } from '@kvmlab/hypervisor-core';
import {
  KVM_CLOCK_PAIRING_OFFSETS as CP,
  KVM_CLOCK_PAIRING_SIZE,
  PVCLOCK_OFFSETS as PV,
  PVCLOCK_VCPU_TIME_INFO_SIZE,
} from '../constants.js';

export interface PvclockVcpuTimeInfo {
  readonly version: number;
  readonly tscTimestamp: bigint;
  readonly systemTime: bigint;
  /** u32 fraction: ns per (shifted) TSC tick × 2^32. */
  readonly tscToSystemMul: bigint;
  /** s8: shift the TSC delta left (positive) or right (negative) before multiplying. */
  readonly tscShift: number;
  readonly flags: number;
}

export function encodePvclock(p: PvclockVcpuTimeInfo): Uint8Array {
  const b = new Uint8Array(PVCLOCK_VCPU_TIME_INFO_SIZE);
  encodePvclockInto(new DataView(b.buffer), p);
  return b;
}

/**
 * encodePvclock() into a caller's 32-byte view: DataView stores instead of byte-by-byte bigint
 * shifts and no allocation, for the host's kvmclock rewrites (the hottest path of a long x86 run).
 */
export function encodePvclockInto(d: DataView, p: PvclockVcpuTimeInfo): void {
  d.setUint32(PV.version, p.version >>> 0, true);
  d.setUint32(PV.pad0, 0, true);
  d.setBigUint64(PV.tscTimestamp, BigInt.asUintN(64, p.tscTimestamp), true);
  d.setBigUint64(PV.systemTime, BigInt.asUintN(64, p.systemTime), true);
  d.setUint32(PV.tscToSystemMul, Number(BigInt.asUintN(32, p.tscToSystemMul)), true);
  d.setUint8(PV.tscShift, p.tscShift & 0xff);
  d.setUint8(PV.flags, p.flags & 0xff);
  d.setUint16(PV.flags + 1, 0, true); // pad[2]
}

export function decodePvclock(b: Uint8Array): PvclockVcpuTimeInfo {
  return {
    version: Number(readLe(b, PV.version, 4)),
    tscTimestamp: readLe(b, PV.tscTimestamp, 8),
    systemTime: readLe(b, PV.systemTime, 8),
    tscToSystemMul: readLe(b, PV.tscToSystemMul, 4),
    tscShift: Number(BigInt.asIntN(8, readLe(b, PV.tscShift, 1))),
    flags: Number(readLe(b, PV.flags, 1)),
  };
}

export interface KvmClockPairing {
  readonly sec: bigint;
  readonly nsec: bigint;
  readonly tsc: bigint;
  readonly flags: number;
}

/** The 64 bytes kvm_pv_clock_pairing() writes: fields, then flags 0 and a zeroed pad[9]. */
export function encodeClockPairing(c: KvmClockPairing): Uint8Array {
  const b = new Uint8Array(KVM_CLOCK_PAIRING_SIZE);
  writeLe(b, CP.sec, 8, c.sec);
  writeLe(b, CP.nsec, 8, c.nsec);
  writeLe(b, CP.tsc, 8, c.tsc);
  writeLe(b, CP.flags, 4, BigInt(c.flags));
  return b;
}

export function decodeClockPairing(b: Uint8Array): KvmClockPairing {
  return {
    sec: s64(readLe(b, CP.sec, 8)),
    nsec: s64(readLe(b, CP.nsec, 8)),
    tsc: readLe(b, CP.tsc, 8),
    flags: Number(readLe(b, CP.flags, 4)),
  };
}
