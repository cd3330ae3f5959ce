/**
 * A run's result in chrony's vocabulary, from what the guest itself measured (never the model's
 * truth): a `chronyc tracking`-like block and a `chronyc sources`-like line per method, with the
 * fields chronyc(1) documents. Reduced: one source per method, no leap seconds, no NTP root
 * delay above the host (the host is taken as stratum 2, synchronised to its own servers).
 */
import type { PtpSyncMethod } from './adapter.js';
import { offsetStats } from './stats.js';

export interface ChronyTracking {
  readonly referenceId: string;
  readonly stratum: number;
  /** chrony's remaining correction: the last measured offset, s (positive: the clock is fast). */
  readonly systemTimeS: number;
  readonly lastOffsetS: number;
  readonly rmsOffsetS: number;
  /** The rate the clock would be wrong without chronyd, ppm (positive: slow, as chronyc prints it). */
  readonly frequencyPpm: number;
  /** Slope of the last measurements against the frequency in use, ppm. */
  readonly residualFreqPpm: number;
  /** Standard error of that slope, ppm. */
  readonly skewPpm: number;
  readonly rootDelayS: number;
  readonly rootDispersionS: number;
  readonly updateIntervalS: number;
}

export interface ChronySource {
  /** '#' refclock, '^' NTP server. */
  readonly mode: '#' | '^';
  readonly name: string;
  readonly stratum: number;
  readonly pollLog2: number;
  /** Octal reach register of the last 8 polls. */
  readonly reach: string;
  readonly lastRxS: number;
  readonly lastSampleNs: number;
  readonly errorNs: number;
}

export interface ChronyView {
  readonly tracking: ChronyTracking;
  readonly source: ChronySource;
  /** The block and the line as chronyc would print them. */
  readonly trackingText: readonly string[];
  readonly sourcesText: string;
}

export interface ChronyInput {
  readonly method: PtpSyncMethod;
  readonly pollLog2: number;
  /** Measured offsets after convergence (guest − reference), ns, and their times, s. */
  readonly measured: readonly number[];
  readonly measuredT: readonly number[];
  readonly delays: readonly number[];
  readonly finalFreqPpb: number;
  /** Outcome of the last 8 polls, oldest first (true: a sample). */
  readonly lastPolls: readonly boolean[];
  /** The counter's tick, ns (chrony's precision of the reading). */
  readonly precisionNs: number;
}

/** Host address of the NTP-only guest's server (libvirt's default network, 192.168.122.1). */
export const NTP_SERVER_NAME = '192.168.122.1';
const HOST_STRATUM = 2;

function slope(t: readonly number[], y: readonly number[]): { b: number; se: number } {
  const n = t.length;
  if (n < 3) return { b: 0, se: 0 };
  const mt = t.reduce((a, x) => a + x, 0) / n;
  const my = y.reduce((a, x) => a + x, 0) / n;
  let sxx = 0;
  let sxy = 0;
  for (let i = 0; i < n; i++) {
    sxx += (t[i]! - mt) ** 2;
    sxy += (t[i]! - mt) * (y[i]! - my);
  }
  if (sxx === 0) return { b: 0, se: 0 };
  const b = sxy / sxx;
  let rss = 0;
  for (let i = 0; i < n; i++) rss += (y[i]! - my - b * (t[i]! - mt)) ** 2;
  return { b, se: Math.sqrt(rss / (n - 2) / sxx) };
}

/** chronyc's time format: a signed value with the largest unit that keeps it ≥ 1 (ns, us, ms, s). */
export function chronyTime(ns: number, signed = true): string {
  const a = Math.abs(ns);
  const [v, u] = a < 1e3 ? [ns, 'ns'] : a < 1e6 ? [ns / 1e3, 'us'] : a < 1e9 ? [ns / 1e6, 'ms'] : [ns / 1e9, 's'];
  const r = Math.round(v);
  return `${signed && r >= 0 ? '+' : ''}${r}${u}`;
}

const sec = (s: number, digits = 9): string => `${Math.abs(s).toFixed(digits)} seconds`;

export function chronyView(i: ChronyInput): ChronyView {
  const ntp = i.method === 'ntp';
  const window = Math.min(i.measured.length, 8);
  const tail = i.measured.slice(-window);
  const tailT = i.measuredT.slice(-window);
  const fit = slope(tailT, tail); // ns/s = ppb
  const st = offsetStats(i.measured);
  const last = i.measured[i.measured.length - 1] ?? NaN;
  const sortedDelay = [...i.delays].sort((a, b) => a - b);
  const minDelay = sortedDelay[0] ?? 0;
  const rootDelayNs = ntp ? minDelay : 0;
  const rootDispersionNs = (Number.isFinite(st.sdNs) ? st.sdNs : 0) + i.precisionNs + (ntp ? 0 : (sortedDelay[Math.floor(sortedDelay.length / 2)] ?? 0) / 2);
  const tracking: ChronyTracking = {
    referenceId: ntp ? NTP_SERVER_NAME : 'PHC0',
    stratum: ntp ? HOST_STRATUM + 1 : 1,
    systemTimeS: last / 1e9,
    lastOffsetS: last / 1e9,
    rmsOffsetS: st.rmsNs / 1e9,
    frequencyPpm: i.finalFreqPpb / 1000,
    residualFreqPpm: fit.b / 1000,
    skewPpm: fit.se / 1000,
    rootDelayS: rootDelayNs / 1e9,
    rootDispersionS: rootDispersionNs / 1e9,
    updateIntervalS: 2 ** i.pollLog2,
  };
  let reachBits = 0;
  for (const ok of i.lastPolls) reachBits = ((reachBits << 1) | (ok ? 1 : 0)) & 0xff;
  const source: ChronySource = {
    mode: ntp ? '^' : '#',
    name: ntp ? NTP_SERVER_NAME : 'PHC0',
    stratum: ntp ? HOST_STRATUM : 0,
    pollLog2: i.pollLog2,
    reach: reachBits.toString(8),
    lastRxS: 2 ** i.pollLog2,
    lastSampleNs: last,
    errorNs: rootDispersionNs + rootDelayNs / 2,
  };
  const ref = ntp ? `C0A87A01 (${NTP_SERVER_NAME})` : '50484330 (PHC0)';
  const trackingText = [
    `Reference ID    : ${ref}`,
    `Stratum         : ${tracking.stratum}`,
    `System time     : ${sec(tracking.systemTimeS)} ${tracking.systemTimeS >= 0 ? 'fast' : 'slow'} of NTP time`,
    `Last offset     : ${tracking.lastOffsetS >= 0 ? '+' : '-'}${sec(tracking.lastOffsetS)}`,
    `RMS offset      : ${sec(tracking.rmsOffsetS)}`,
    `Frequency       : ${Math.abs(tracking.frequencyPpm).toFixed(3)} ppm ${tracking.frequencyPpm >= 0 ? 'slow' : 'fast'}`,
    `Residual freq   : ${tracking.residualFreqPpm >= 0 ? '+' : '-'}${Math.abs(tracking.residualFreqPpm).toFixed(3)} ppm`,
    `Skew            : ${tracking.skewPpm.toFixed(3)} ppm`,
    `Root delay      : ${sec(tracking.rootDelayS)}`,
    `Root dispersion : ${sec(tracking.rootDispersionS)}`,
    `Update interval : ${tracking.updateIntervalS.toFixed(1)} seconds`,
    'Leap status     : Normal',
  ];
  const sample = chronyTime(last);
  const sourcesText = `${source.mode}* ${source.name.padEnd(27)} ${String(source.stratum).padStart(2)} ${String(source.pollLog2).padStart(3)} ${source.reach.padStart(5)} ${String(source.lastRxS).padStart(5)} ${sample.padStart(7)}[${sample.padStart(7)}] +/- ${chronyTime(source.errorNs, false).padStart(5)}`;
  return { tracking, source, trackingText, sourcesText };
}
