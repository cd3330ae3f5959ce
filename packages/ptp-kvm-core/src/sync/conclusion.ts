/**
 * What a user of each variant would conclude, from the run's own figures: the primary method of
 * the variant (what its users ran: NTP without ptp_kvm, the RFC's cross-timestamp, 5.13's
 * PTP_SYS_OFFSET_PRECISE) is judged on two symptoms, both measured, never looked up by variant:
 * - degraded: the true offset never stayed within the convergence bound (±1 µs by default);
 * - hidden bias: the mean true offset differs from the mean the guest measured by more than
 *   HIDDEN_BIAS_NS, so the guest believes it is centred while it is not.
 */
import type { ScenarioVerdict } from '@kvmlab/hypervisor-core';
import type { PtpSyncMethod, PtpSyncVariant } from './adapter.js';
import type { OffsetStats } from './stats.js';

/**
 * 100 ns: twenty times the published ptp_kvm error bounds (±3 ns x86, ±3–6 ns arm64 RFC: spec
 * §10) and a hundredth of the NTP-only figures — a bias no servo statistic shows but any user
 * comparing against the host would call wrong.
 */
export const HIDDEN_BIAS_NS = 100;

/** The method each variant's users ran (the verdict is about it). */
export const PRIMARY_METHOD: Readonly<Record<PtpSyncVariant, PtpSyncMethod>> = {
  none: 'ntp',
  'rfc-v4': 'half-delay',
  merged: 'precise',
};

export interface MethodConclusion {
  readonly degraded: boolean;
  readonly hiddenBiasNs: number;
  readonly biased: boolean;
  /** Every poll failed (an errno): the guest measured nothing, a check of the set-up failed. */
  readonly noSamples: boolean;
  /** One sentence: what the guest believes beside the truth. */
  readonly text: string;
}

const fmt = (ns: number): string => {
  const a = Math.abs(ns);
  const s = ns >= 0 ? '+' : '−';
  if (a >= 1e6) return `${s}${(a / 1e6).toFixed(2)} ms`;
  if (a >= 1e4) return `${s}${(a / 1e3).toFixed(1)} µs`;
  if (a >= 1e3) return `${s}${(a / 1e3).toFixed(2)} µs`;
  return `${s}${a.toFixed(1)} ns`;
};

export function concludeMethod(label: string, offset: OffsetStats, measured: OffsetStats, convergenceS: number | null, thresholdNs: number): MethodConclusion {
  const hiddenBiasNs = measured.n === 0 ? 0 : offset.meanNs - measured.meanNs;
  const biased = Math.abs(hiddenBiasNs) > HIDDEN_BIAS_NS;
  const degraded = convergenceS === null;
  const truth = `really ${fmt(offset.meanNs)} (RMS ${fmt(offset.rmsNs).replace(/^\+/, '')})`;
  const belief = `believes ${fmt(measured.meanNs)} (RMS ${fmt(measured.rmsNs).replace(/^\+/, '')})`;
  const what = degraded
    ? `degraded: never stayed within ±${fmt(thresholdNs).replace(/^\+/, '')} of the host`
    : biased
      ? `biased: ${fmt(hiddenBiasNs)} the guest cannot see`
      : 'on time';
  return { degraded, hiddenBiasNs, biased, noSamples: measured.n === 0, text: `${label}: ${what}; the guest ${belief}, it is ${truth}` };
}

/**
 * The verdict, as the other scenarios give theirs (a symptom seen → 'bug-reproduced', none →
 * 'ok'), from the primary method; 'fail' when a check of the model itself failed (no primary
 * result, or the vCPUs' PHCs disagree).
 */
export function ptpSyncVerdict(primary: MethodConclusion | undefined, vcpusAgree: boolean): ScenarioVerdict {
  if (primary === undefined || !vcpusAgree || primary.noSamples) return 'fail';
  return primary.degraded || primary.biased ? 'bug-reproduced' : 'ok';
}
