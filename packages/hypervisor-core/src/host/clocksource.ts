/**
 * Clocksources and the kernel's fixed-point cycles→ns conversion (ns = cycles * mult >> shift).
 * Facts: kernel/time/clocksource.c (clocks_calc_mult_shift), include/linux/clocksource_ids.h.
 */

/** enum clocksource_ids (include/linux/clocksource_ids.h, Linux 5.13+), kept as symbols. */
export type ClocksourceId =
  | 'CSID_GENERIC'
  | 'CSID_ARM_ARCH_COUNTER'
  | 'CSID_X86_TSC_EARLY'
  | 'CSID_X86_TSC'
  | 'CSID_X86_KVM_CLK';

/** How the vDSO (and KVM's x86 clock-pairing check) reads the clock: `vdso_clock_mode`. */
export type VdsoClockMode = 'none' | 'arch_timer' | 'tsc' | 'pvclock';

export interface ClocksourceInfo {
  readonly name: string;
  readonly id: ClocksourceId;
  readonly vdsoClockMode: VdsoClockMode;
  /** Counter width: arch_sys_counter is CLOCKSOURCE_MASK(56) (drivers/clocksource/arm_arch_timer.c), TSC 64. */
  readonly maskBits: number;
}

/** Well-known host clocksources; any other name is a generic one (e.g. 'hpet', 'acpi_pm'). */
export function clocksourceInfo(name: string): ClocksourceInfo {
  switch (name) {
    case 'arch_sys_counter':
      return { name, id: 'CSID_ARM_ARCH_COUNTER', vdsoClockMode: 'arch_timer', maskBits: 56 };
    case 'tsc':
      return { name, id: 'CSID_X86_TSC', vdsoClockMode: 'tsc', maskBits: 64 };
    case 'tsc-early':
      return { name, id: 'CSID_X86_TSC_EARLY', vdsoClockMode: 'none', maskBits: 64 };
    case 'kvm-clock':
      return { name, id: 'CSID_X86_KVM_CLK', vdsoClockMode: 'pvclock', maskBits: 64 };
    case 'hpet':
      return { name, id: 'CSID_GENERIC', vdsoClockMode: 'none', maskBits: 32 };
    default:
      return { name, id: 'CSID_GENERIC', vdsoClockMode: 'none', maskBits: 64 };
  }
}

export interface MultShift {
  readonly mult: bigint;
  readonly shift: bigint;
}

/**
 * models clocks_calc_mult_shift() (kernel/time/clocksource.c): the largest shift (≤ 32) whose
 * mult still lets `maxsec` seconds of cycles be multiplied without overflowing 64 bits.
 */
export function clocksCalcMultShift(from: bigint, to: bigint, maxsec: bigint): MultShift {
  if (from <= 0n || to <= 0n) throw new RangeError('clock frequencies must be positive');
  let sftacc = 32n;
  let tmp = (maxsec * from) >> 32n;
  while (tmp > 0n) {
    tmp >>= 1n;
    sftacc--;
  }
  let mult = 0n;
  let shift = 32n;
  for (let sft = 32n; sft > 0n; sft--) {
    mult = ((to << sft) + from / 2n) / from;
    shift = sft;
    if (mult >> sftacc === 0n) break;
  }
  return { mult, shift };
}

/** cycles → ns with a mult/shift pair, exact in bigint (the kernel's clocksource_cyc2ns). */
export const cyc2ns = (cycles: bigint, ms: MultShift): bigint => (cycles * ms.mult) >> ms.shift;
