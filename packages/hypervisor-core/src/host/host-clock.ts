/**
 * The host's hardware counter and its timekeeping. Virtual time (the scheduler's `now`) is the
 * true time; the counter runs at `counterHz` off by `driftPpm`, and timekeeping turns counter
 * readings into CLOCK_REALTIME and CLOCK_MONOTONIC_RAW with mult/shift arithmetic, the way
 * kernel/time/timekeeping.c does (shifted-ns accumulation, so no rounding error builds up).
 */
import { U64_MASK } from '../bigint.js';
import type { Scheduler } from '../sim/scheduler.js';
import { clocksCalcMultShift, clocksourceInfo, type ClocksourceInfo } from './clocksource.js';

export interface HostOptions {
  /** Host clocksource name: 'arch_sys_counter' (arm64 default), 'tsc' (x86 default), 'hpet', … */
  readonly clocksource?: string;
  /** Nominal counter frequency (arm64 default 25 MHz, x86 TSC default 2.5 GHz). */
  readonly counterHz?: bigint;
  /** Counter value at virtual time 0 (may be near 2^64 to test wrap). */
  readonly counterStart?: bigint;
  /** CLOCK_REALTIME at virtual time 0, ns (default 2019-09-26T00:00:00Z, the series' date). */
  readonly realtimeStartNs?: bigint;
  /** How fast the counter really runs against true time, parts per million. */
  readonly driftPpm?: number;
}

export const DEFAULT_REALTIME_START_NS = 1_569_456_000_000_000_000n; // 2019-09-26T00:00:00Z
const NSEC_PER_SEC = 1_000_000_000n;
/** Max seconds between accumulations the kernel plans mult for (timekeeping uses ~600 s). */
const MULT_MAXSEC = 600n;

export interface KtimeSnapshot {
  /** CLOCK_REALTIME, ns. */
  readonly real: bigint;
  /** CLOCK_MONOTONIC_RAW, ns. */
  readonly raw: bigint;
  /** The counter value both were computed from. */
  readonly cycles: bigint;
  readonly csId: ClocksourceInfo['id'];
}

export class HostClock {
  readonly clocksource: ClocksourceInfo;
  readonly counterHz: bigint;
  readonly counterStart: bigint;
  readonly realtimeStartNs: bigint;
  /** Drift in parts per billion (integer, so counter arithmetic stays exact). */
  readonly driftPpb: bigint;
  /** The unadjusted clocksource mult/shift (MONOTONIC_RAW uses it). */
  readonly mult: bigint;
  readonly shift: bigint;
  private readonly sim: Scheduler;
  private readonly mask: bigint;
  private multAdj: bigint;
  private freqAdjPpb = 0n;
  private cycleLast: bigint;
  private realShifted: bigint;
  private rawShifted: bigint;

  constructor(sim: Scheduler, defaults: { clocksource: string; counterHz: bigint }, opts: HostOptions = {}) {
    this.sim = sim;
    this.clocksource = clocksourceInfo(opts.clocksource ?? defaults.clocksource);
    this.counterHz = opts.counterHz ?? defaults.counterHz;
    if (this.counterHz <= 0n) throw new RangeError(`counterHz must be positive, got ${this.counterHz}`);
    this.counterStart = (opts.counterStart ?? 0n) & U64_MASK;
    this.realtimeStartNs = opts.realtimeStartNs ?? DEFAULT_REALTIME_START_NS;
    const drift = opts.driftPpm ?? 0;
    if (!Number.isFinite(drift) || Math.abs(drift) >= 1e6) throw new RangeError(`driftPpm out of range: ${drift}`);
    this.driftPpb = BigInt(Math.round(drift * 1000));
    this.mask = (1n << BigInt(this.clocksource.maskBits)) - 1n;
    const ms = clocksCalcMultShift(this.counterHz, NSEC_PER_SEC, MULT_MAXSEC);
    this.mult = ms.mult;
    this.shift = ms.shift;
    this.multAdj = ms.mult;
    this.cycleLast = this.counter();
    this.realShifted = this.realtimeStartNs << this.shift;
    this.rawShifted = 0n;
  }

  /** The raw 64-bit hardware counter now (CNTPCT_EL0 / RDTSC on the host). */
  counter(at: bigint = this.sim.now): bigint {
    const ticks = (at * this.counterHz * (NSEC_PER_SEC + this.driftPpb)) / (NSEC_PER_SEC * NSEC_PER_SEC);
    return (this.counterStart + ticks) & U64_MASK;
  }

  /** Cycles since the last accumulation, through the clocksource mask (handles wrap). */
  private delta(cycles: bigint): bigint {
    return (cycles - this.cycleLast) & this.mask;
  }

  /** CLOCK_REALTIME now, ns. */
  realtime(): bigint {
    return this.snapshot().real;
  }

  /** CLOCK_MONOTONIC_RAW now, ns. */
  monotonicRaw(): bigint {
    return this.snapshot().raw;
  }

  /** What a perfect clock would read now (the reference every error is measured against). */
  trueRealtime(at: bigint = this.sim.now): bigint {
    return this.realtimeStartNs + at;
  }

  /** ktime_get_snapshot(): realtime, raw and the counter from one instant. */
  ktimeGetSnapshot(): KtimeSnapshot {
    return this.snapshot();
  }

  /** Realtime and raw for a given counter value (must not predate the last accumulation). */
  cyclesToTimes(cycles: bigint): { real: bigint; raw: bigint } {
    const d = this.delta(cycles);
    return {
      real: (this.realShifted + d * this.multAdj) >> this.shift,
      raw: (this.rawShifted + d * this.mult) >> this.shift,
    };
  }

  /** NTP-like frequency correction (adjtimex ADJ_FREQUENCY on the host), ppb. */
  adjustFrequency(ppb: number): void {
    this.accumulate();
    this.freqAdjPpb = BigInt(Math.round(ppb));
    this.multAdj = this.mult + (this.mult * this.freqAdjPpb) / NSEC_PER_SEC;
  }

  /** Current host frequency correction, ppb. */
  get frequencyAdjustmentPpb(): number {
    return Number(this.freqAdjPpb);
  }

  /** Steps CLOCK_REALTIME (settimeofday / ADJ_SETOFFSET) by `deltaNs`. */
  stepRealtime(deltaNs: bigint): void {
    this.accumulate();
    this.realShifted += deltaNs << this.shift;
  }

  /** Folds elapsed cycles into the base, as timekeeping_advance() does every tick. */
  private accumulate(): void {
    const cycles = this.counter();
    const d = this.delta(cycles);
    this.realShifted += d * this.multAdj;
    this.rawShifted += d * this.mult;
    this.cycleLast = cycles;
  }

  private snapshot(): KtimeSnapshot {
    const cycles = this.counter();
    const { real, raw } = this.cyclesToTimes(cycles);
    return { real, raw, cycles, csId: this.clocksource.id };
  }
}
