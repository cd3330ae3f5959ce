/**
 * A chrony-like refclock servo (after chrony's refclock driver and source statistics, reduced):
 * the PHC is read every 2^dpoll s; at each poll (2^poll s) the readings are median-filtered
 * (the ~40 % farthest from the median are dropped, the rest averaged) into one sample; the
 * frequency comes from a least-squares line through the last samples, and the offset is slewed
 * out over corrtimeratio × the poll interval. When the servo changes the clock's rate, the
 * stored samples are re-expressed as if the new rate had always applied (chrony's
 * SST_SlewSamples), so the regression keeps working across corrections. A step happens only
 * past `makestep` (Kata: `makestep 1 -1`, 1 s).
 */
import type { ClockServo, ServoAction } from './servo.js';

export interface ChronyServoOptions {
  readonly pollLog2: number;
  /** Kata's refclock line uses dpoll -2 (four readings a second). */
  readonly dpollLog2?: number;
  /** chrony corrtimeratio (default 3). */
  readonly corrTimeRatio?: number;
  /** Regression window, samples (chrony adapts it; fixed here). */
  readonly maxSamples?: number;
  readonly makestepNs?: number;
}

interface Sample {
  t: number;
  off: number;
}

/** chrony's refclock filter: drop the readings farthest from the median (about 40 %), average the rest. */
export function medianFilter(values: readonly Sample[]): Sample {
  const sorted = [...values].sort((a, b) => a.off - b.off);
  const med = sorted[Math.floor(sorted.length / 2)]!.off;
  const keep = Math.max(1, Math.round(sorted.length * 0.6));
  const kept = [...values].sort((a, b) => Math.abs(a.off - med) - Math.abs(b.off - med)).slice(0, keep);
  const n = kept.length;
  return { t: kept.reduce((s, x) => s + x.t, 0) / n, off: kept.reduce((s, x) => s + x.off, 0) / n };
}

/** Least squares off = a + b·(t − tRef). */
function regress(s: readonly Sample[], tRef: number): { a: number; b: number } {
  const n = s.length;
  const mt = s.reduce((x, p) => x + (p.t - tRef), 0) / n;
  const mo = s.reduce((x, p) => x + p.off, 0) / n;
  let num = 0;
  let den = 0;
  for (const p of s) {
    num += (p.t - tRef - mt) * (p.off - mo);
    den += (p.t - tRef - mt) ** 2;
  }
  const b = den > 0 ? num / den : 0;
  return { a: mo - b * mt, b };
}

export function chronyClockServo(opts: ChronyServoOptions): ClockServo {
  const dpoll = opts.dpollLog2 ?? -2;
  const perPoll = Math.max(1, 2 ** (opts.pollLog2 - dpoll));
  const pollS = 2 ** opts.pollLog2;
  const corrTime = (opts.corrTimeRatio ?? 3) * pollS;
  const maxSamples = opts.maxSamples ?? 8;
  const makestep = opts.makestepNs ?? 1e9;
  const raw: Sample[] = [];
  const samples: Sample[] = [];
  let freqCorr = 0; // ppb: frequency part of the total correction
  let slewCorr = 0; // ppb: offset slew part
  return {
    name: 'chrony',
    sampleIntervalS: 2 ** dpoll,
    sample(offsetNs: number, localS: number): ServoAction {
      raw.push({ t: localS, off: offsetNs });
      if (raw.length < perPoll) return {};
      const f = medianFilter(raw);
      raw.length = 0;
      if (Math.abs(f.off) > makestep) {
        samples.length = 0;
        return { stepNs: -f.off };
      }
      samples.push(f);
      if (samples.length > maxSamples) samples.shift();
      const fit = samples.length >= 2 ? regress(samples, localS) : { a: f.off, b: 0 };
      const oldTotal = freqCorr + slewCorr;
      // The slope includes the slew still in effect; only the rest is a frequency error (ns/s = ppb).
      freqCorr -= fit.b - slewCorr;
      slewCorr = -fit.a / corrTime; // slew the offset out over corrtimeratio × poll
      const delta = freqCorr + slewCorr - oldTotal;
      // SST_SlewSamples: past samples as if the new rate had applied up to now.
      for (const s of samples) s.off += delta * (s.t - localS);
      return { freqPpb: freqCorr + slewCorr };
    },
  };
}
