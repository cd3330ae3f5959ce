/**
 * The guest's timekeeping (kernel/time/timekeeping.c, reduced to what ptp_kvm touches): one
 * clocksource with mult/shift, CLOCK_REALTIME and CLOCK_MONOTONIC_RAW kept as shifted ns from
 * the last accumulation (cycle_last), a frequency correction and a phase step as adjtimex
 * applies them, and get_device_system_crosststamp(). Everything is bigint: realtime in ns
 * (~1.6e18) does not fit a double.
 */
import { clocksCalcMultShift, KvmError } from '@kvmlab/hypervisor-core';
import type { ClocksourceId } from '@kvmlab/hypervisor-core';
import type { GuestClocksource } from './clocksource.js';
import { NSEC_PER_SEC } from './timespec.js';

/** Seconds of cycles mult is planned for (__clocksource_update_freq_scale uses ≤ 600 s). */
const MULT_MAXSEC = 600n;
/** adjtimex frequency unit: ppm with 16 fractional bits (include/uapi/linux/timex.h, SHIFT_USEC). */
export const SHIFT_USEC = 16n;
const PPM_SCALED_PER_UNIT = 1_000_000n << SHIFT_USEC;

/** What get_device_system_crosststamp()'s callback returns (struct system_counterval_t + device time). */
export interface DeviceCrosststamp {
  /** Device (PHC) time, ns. */
  readonly device: bigint;
  readonly cycles: bigint;
  readonly csId: ClocksourceId;
}

/** struct system_device_crosststamp. */
export interface SystemDeviceCrosststamp {
  readonly device: bigint;
  readonly sysRealtime: bigint;
  readonly sysMonoraw: bigint;
}

export interface GuestTimekeeperOptions {
  /** CLOCK_REALTIME at the first read, ns (what the guest set at boot, from an RTC or the VMM). */
  readonly realtimeNs: bigint;
  /** Model guard: how often the crosststamp loop may retry (the kernel loops until it succeeds). */
  readonly maxRetries?: number;
}

export interface GuestTimekeeperStats {
  accumulations: number;
  crosststampRetries: number;
  steps: number;
}

export class GuestTimekeeper {
  readonly clocksource: GuestClocksource;
  readonly mult: bigint;
  readonly shift: bigint;
  readonly stats: GuestTimekeeperStats = { accumulations: 0, crosststampRetries: 0, steps: 0 };
  private readonly mask: bigint;
  private readonly maxRetries: number;
  private cycleLast: bigint;
  private realShifted: bigint;
  private rawShifted = 0n;
  /** Frequency correction in adjtimex units (scaled ppm, 2^-16 ppm). */
  private freqScaled = 0n;
  /** tk_core.seq: bumped by every update, so readers that raced one retry. */
  private seq = 0;

  constructor(cs: GuestClocksource, opts: GuestTimekeeperOptions) {
    this.clocksource = cs;
    const ms = clocksCalcMultShift(cs.hz, NSEC_PER_SEC, MULT_MAXSEC);
    this.mult = ms.mult;
    this.shift = ms.shift;
    this.mask = (1n << BigInt(cs.maskBits)) - 1n;
    this.maxRetries = opts.maxRetries ?? 1000;
    this.cycleLast = cs.read() & this.mask;
    this.realShifted = opts.realtimeNs << this.shift;
  }

  /** The current frequency correction, ppb (what adjtimex ADJ_FREQUENCY last set). */
  get frequencyPpb(): number {
    return (Number(this.freqScaled) / 65536) * 1000;
  }

  /** cycle_last: the counter value of the last accumulation. */
  get cycleLastValue(): bigint {
    return this.cycleLast;
  }

  private delta(cycles: bigint): bigint {
    return (cycles - this.cycleLast) & this.mask;
  }

  /**
   * Shifted ns for `d` cycles at the corrected rate. The kernel reaches a sub-mult frequency
   * resolution by steering mult around the NTP error each tick; this applies the same average
   * rate exactly (mult × (1 + freq)), so a 1 GHz counter's coarse mult does not limit it.
   */
  private scaledRealDelta(d: bigint): bigint {
    const base = d * this.mult;
    return base + (base * this.freqScaled) / PPM_SCALED_PER_UNIT;
  }

  /** models timekeeping_cycles_to_ns() for CLOCK_REALTIME and CLOCK_MONOTONIC_RAW. */
  timesAt(cycles: bigint): { real: bigint; raw: bigint } {
    const d = this.delta(cycles);
    return {
      real: (this.realShifted + this.scaledRealDelta(d)) >> this.shift,
      raw: (this.rawShifted + d * this.mult) >> this.shift,
    };
  }

  /** models ktime_get_real() (kernel/time/timekeeping.c). */
  realtime(): bigint {
    return this.timesAt(this.clocksource.read() & this.mask).real;
  }

  /** models ktime_get_raw(). */
  monotonicRaw(): bigint {
    return this.timesAt(this.clocksource.read() & this.mask).raw;
  }

  /** models timekeeping_advance(): folds the elapsed cycles into the base (a tick). */
  accumulate(): void {
    const now = this.clocksource.read() & this.mask;
    const d = this.delta(now);
    this.realShifted += this.scaledRealDelta(d);
    this.rawShifted += d * this.mult;
    this.cycleLast = now;
    this.seq++;
    this.stats.accumulations++;
  }

  /** adjtimex ADJ_FREQUENCY: `freq` in scaled ppm (ppm << 16), clamped to ±MAXFREQ (500 ppm). */
  adjFrequencyScaled(freq: bigint): void {
    const MAXFREQ_SCALED = 500n << SHIFT_USEC; // include/linux/timex.h: MAXFREQ 500 ppm
    this.accumulate();
    this.freqScaled = freq > MAXFREQ_SCALED ? MAXFREQ_SCALED : freq < -MAXFREQ_SCALED ? -MAXFREQ_SCALED : freq;
  }

  /** ADJ_FREQUENCY given in ppb (clock_adjtime callers such as phc2sys convert ppb to scaled ppm). */
  adjFrequencyPpb(ppb: number): void {
    this.adjFrequencyScaled(BigInt(Math.round((ppb / 1000) * 65536)));
  }

  /** models timekeeping_inject_offset() (ADJ_SETOFFSET): steps CLOCK_REALTIME by `deltaNs`. */
  step(deltaNs: bigint): void {
    this.accumulate();
    this.realShifted += deltaNs << this.shift;
    this.stats.steps++;
  }

  /**
   * models get_device_system_crosststamp() (kernel/time/timekeeping.c) with history = NULL:
   * under the seqcount, ask the device for (device time, counter), refuse a counter of another
   * clocksource (-ENODEV) or one outside [cycle_last, now] (-EINVAL: interpolation needs
   * history), and convert the counter value with the timekeeper's own mult/shift.
   */
  getDeviceSystemCrosststamp(getTimeFn: () => DeviceCrosststamp): SystemDeviceCrosststamp {
    for (let tries = 0; ; tries++) {
      const seq = this.seq;
      const xt = getTimeFn();
      // timekeeping.c: a CSID_GENERIC or a foreign clocksource id cannot be converted.
      if (xt.csId === 'CSID_GENERIC' || xt.csId !== this.clocksource.csId) {
        throw new KvmError('ENODEV', `crosststamp counter ${xt.csId} is not the current clocksource ${this.clocksource.csId}`);
      }
      const now = this.clocksource.read() & this.mask;
      const cycles = xt.cycles & this.mask;
      // timestamp_in_interval(): inclusive bounds, wrap-safe through the mask.
      const inInterval = this.delta(cycles) <= this.delta(now);
      if (seq !== this.seq) {
        this.stats.crosststampRetries++;
        if (tries >= this.maxRetries) throw new KvmError('EAGAIN', 'crosststamp retried too often (model guard)');
        continue;
      }
      if (!inInterval) {
        throw new KvmError('EINVAL', `crosststamp cycles ${cycles} outside [${this.cycleLast}, ${now}] and no history to interpolate`);
      }
      const t = this.timesAt(cycles);
      return { device: xt.device, sysRealtime: t.real, sysMonoraw: t.raw };
    }
  }
}
