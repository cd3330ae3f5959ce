/**
 * The guest's pvclock arithmetic and read protocol (arch/x86/include/asm/pvclock.h,
 * arch/x86/kernel/pvclock.c). kvm-clock "cycles" are nanoseconds.
 */
import { u64 } from '@kvmlab/hypervisor-core';
import { decodePvclock, type PvclockVcpuTimeInfo } from '../abi/pvclock-abi.js';
import { PVCLOCK_OFFSETS, PVCLOCK_VCPU_TIME_INFO_SIZE } from '../constants.js';
import type { X86GuestCpu } from './cpu.js';

/**
 * models pvclock_scale_delta() (arch/x86/include/asm/pvclock.h): shift the u64 delta, then
 * mul_u64_u32_shr(delta, mul, 32) with the full 96-bit product.
 */
export function pvclockScaleDelta(delta: bigint, mulFrac: bigint, shift: number): bigint {
  let d = u64(delta);
  d = shift < 0 ? d >> BigInt(-shift) : u64(d << BigInt(shift));
  return u64((d * (mulFrac & 0xffff_ffffn)) >> 32n);
}

/** models __pvclock_read_cycles() (arch/x86/include/asm/pvclock.h): u64 wrap throughout. */
export function pvclockReadCycles(src: Pick<PvclockVcpuTimeInfo, 'tscTimestamp' | 'systemTime' | 'tscToSystemMul' | 'tscShift'>, tsc: bigint): bigint {
  const delta = u64(tsc - src.tscTimestamp);
  return u64(src.systemTime + pvclockScaleDelta(delta, src.tscToSystemMul, src.tscShift));
}

/** The version field as the guest loads it. */
export function readPvclockVersion(cpu: X86GuestCpu, pvtiGpa: bigint): number {
  const b = cpu.read(pvtiGpa + BigInt(PVCLOCK_OFFSETS.version), 4);
  return (b[0]! | (b[1]! << 8) | (b[2]! << 16) | (b[3]! << 24)) >>> 0;
}

/** models pvclock_read_begin(): the version with the "update in progress" bit masked off. */
export const pvclockReadBegin = (cpu: X86GuestCpu, pvtiGpa: bigint): number => (readPvclockVersion(cpu, pvtiGpa) & ~1) >>> 0;

/** models pvclock_read_retry(): true if the area changed (or was being changed) meanwhile. */
export const pvclockReadRetry = (cpu: X86GuestCpu, pvtiGpa: bigint, version: number): boolean =>
  readPvclockVersion(cpu, pvtiGpa) !== version;

export function readPvti(cpu: X86GuestCpu, pvtiGpa: bigint): PvclockVcpuTimeInfo {
  return decodePvclock(cpu.read(pvtiGpa, PVCLOCK_VCPU_TIME_INFO_SIZE));
}

/** The guest gave up a pvclock loop the kernel would spin in forever (a model guard). */
export class PvclockLivelockError extends Error {
  override readonly name = 'PvclockLivelockError';
  constructor(readonly retries: number) {
    super(`pvclock read loop still retrying after ${retries} tries (the kernel would spin forever)`);
  }
}

/**
 * models pvclock_tsc_khz() (arch/x86/kernel/pvclock.c): the TSC rate a guest derives from the
 * kvmclock scale (kvm_get_tsc_khz() uses it to calibrate the TSC clocksource).
 */
export function pvclockTscKhz(src: Pick<PvclockVcpuTimeInfo, 'tscToSystemMul' | 'tscShift'>): bigint {
  if (src.tscToSystemMul === 0n) return 0n;
  let khz = (1_000_000n << 32n) / src.tscToSystemMul;
  khz = src.tscShift < 0 ? u64(khz << BigInt(-src.tscShift)) : khz >> BigInt(src.tscShift);
  return khz;
}
