/**
 * A PI clock servo as linuxptp's phc2sys runs it (linuxptp pi.c, hardware-timestamp defaults):
 * kp = 0.7 and ki = 0.3, each capped at (0.7 | 0.3) / interval; the first sample only records,
 * the second estimates the frequency error and asks for a step when the offset exceeds the
 * first-step threshold, then every sample gives ppb = kp·offset + ki·offset + drift.
 * The output is the frequency error of the local clock; the caller corrects by −ppb.
 */

/** linuxptp defaults (config.c): pi_proportional_const/scale for hardware timestamps, norm_max. */
export const PI_KP_SCALE = 0.7; // linuxptp pi.c HWTS_KP_SCALE
export const PI_KI_SCALE = 0.3; // linuxptp pi.c HWTS_KI_SCALE
export const PI_KP_NORM_MAX = 0.7; // linuxptp config.c pi_proportional_norm_max
export const PI_KI_NORM_MAX = 0.3; // linuxptp config.c pi_integral_norm_max
/** phc2sys first_step_threshold default: 20 µs (linuxptp phc2sys.c). */
export const FIRST_STEP_THRESHOLD_NS = 20_000;
/** Largest correction the servo asks for: the kernel's adjtimex limit, 500 ppm (include/linux/timex.h MAXFREQ). */
export const MAX_PPB = 500_000;

export type ServoState = 'unlocked' | 'jump' | 'locked';

export interface ServoOutput {
  readonly state: ServoState;
  /** Frequency error of the local clock, ppb (the correction is −ppb). */
  readonly ppb: number;
}

export interface PiServoOptions {
  /** Seconds between samples (2^poll). */
  readonly intervalS: number;
  readonly kpScale?: number;
  readonly kiScale?: number;
  readonly firstStepThresholdNs?: number;
}

export class PiServo {
  readonly kp: number;
  readonly ki: number;
  private readonly firstStepThresholdNs: number;
  private count = 0;
  private drift = 0;
  private offset0 = 0;
  private local0 = 0;

  constructor(opts: PiServoOptions) {
    const i = opts.intervalS;
    if (!(i > 0)) throw new RangeError(`servo interval must be positive, got ${i}`);
    this.kp = Math.min(opts.kpScale ?? PI_KP_SCALE, PI_KP_NORM_MAX / i);
    this.ki = Math.min(opts.kiScale ?? PI_KI_SCALE, PI_KI_NORM_MAX / i);
    this.firstStepThresholdNs = opts.firstStepThresholdNs ?? FIRST_STEP_THRESHOLD_NS;
  }

  private clamp(ppb: number): number {
    return Math.max(-MAX_PPB, Math.min(MAX_PPB, ppb));
  }

  /** One sample: `offsetNs` = local − reference, `localS` = local time of the sample, s. */
  sample(offsetNs: number, localS: number): ServoOutput {
    switch (this.count) {
      case 0:
        this.offset0 = offsetNs;
        this.local0 = localS;
        this.count = 1;
        return { state: 'unlocked', ppb: this.drift };
      case 1: {
        if (this.local0 >= localS) {
          this.count = 0;
          return { state: 'unlocked', ppb: this.drift };
        }
        this.drift = this.clamp(this.drift + (offsetNs - this.offset0) / (localS - this.local0));
        this.count = 2;
        const jump = Math.abs(offsetNs) > this.firstStepThresholdNs;
        return { state: jump ? 'jump' : 'locked', ppb: this.drift };
      }
      default: {
        const kiTerm = this.ki * offsetNs;
        const ppb = this.kp * offsetNs + this.drift + kiTerm;
        if (Math.abs(ppb) < MAX_PPB) this.drift += kiTerm;
        return { state: 'locked', ppb: this.clamp(ppb) };
      }
    }
  }
}
