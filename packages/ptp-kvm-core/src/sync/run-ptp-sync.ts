/**
 * runPtpSync(): the ptp-sync scenario for any arch. Every method the adapter supports runs on
 * its own hypervisor built from the same seed, and the result compares them: offset statistics
 * after convergence, convergence time, and the offset over time for charts.
 */
import type { ScenarioFigure, ScenarioResult, ScenarioRunInput, ScenarioSeries } from '@kvmlab/hypervisor-core';
import type { PtpSyncArchAdapter, PtpSyncMethod, PtpSyncVariant } from './adapter.js';
import { chronyView, type ChronyView } from './chrony-report.js';
import { concludeMethod, PRIMARY_METHOD, ptpSyncVerdict, type MethodConclusion } from './conclusion.js';
import { HOST_NTP_POLL_LOG2, HOST_NTP_SLEW_SD_PPB, PTP_SYNC_ERROR_SOURCES, STEAL_GSD, STEAL_MEDIAN_US } from './error-sources.js';
import { VIRTIO_NET_NTP_PATH } from './ntp-nic.js';
import { runMethod, type MethodTrace, type PtpSyncParams } from './run-method.js';
import { convergenceIndex, offsetStats, type OffsetStats } from './stats.js';

export const PTP_SYNC_METHOD_LABEL: Readonly<Record<PtpSyncMethod, string>> = {
  precise: 'PTP_SYS_OFFSET_PRECISE',
  'sys-offset': 'PTP_SYS_OFFSET',
  'half-delay': 'RFC v4 half-delay',
  ntp: 'NTP over virtio-net',
};

/** The variants an adapter runs, in demo order (pre-fix first). */
export function ptpSyncVariants(adapter: PtpSyncArchAdapter): readonly PtpSyncVariant[] {
  const v = adapter.variantMethods;
  if (v === undefined) return ['merged'];
  return (['none', 'rfc-v4', 'merged'] as const).filter((k) => v[k] !== undefined);
}

/** The methods a variant runs (absent variant map: `methods`, as before variants existed). */
export function ptpSyncMethodsOf(adapter: PtpSyncArchAdapter, variant: PtpSyncVariant = 'merged'): readonly PtpSyncMethod[] {
  const m = adapter.variantMethods?.[variant] ?? (variant === 'merged' ? adapter.methods : undefined);
  if (m === undefined) throw new RangeError(`ptp-sync on ${adapter.arch} has no variant "${variant}" (variants: ${ptpSyncVariants(adapter).join(', ')})`);
  return m;
}

export interface MethodSummary {
  readonly method: PtpSyncMethod;
  readonly label: string;
  /** Seconds of virtual time until |offset| stayed within the threshold; null if it never did. */
  readonly convergenceS: number | null;
  /** True guest−host offset after convergence (or over the last half if it never converged). */
  readonly offset: OffsetStats;
  /** Guest timestamp error against the host clock interpolated inside a counter tick. */
  readonly tsError: OffsetStats;
  /** What the servo measured after convergence (what chronyc/phc2sys would print). */
  readonly measured: OffsetStats;
  readonly failedPolls: number;
  readonly steps: number;
  readonly finalFreqPpb: number;
  /** vcpus > 1: the largest disagreement between the vCPUs' PHC readings over the run (ns), and failed cross-vCPU readings. */
  readonly vcpuSpreadMaxNs?: number;
  readonly vcpuFailures?: number;
  /** What a user would conclude from this method (true offset beside the belief). */
  readonly conclusion: MethodConclusion;
  /** The same run in chronyc's terms (from the guest's own measurements only). */
  readonly chrony: ChronyView;
}

export interface PtpSyncReport {
  readonly params: PtpSyncParams;
  readonly methods: readonly MethodSummary[];
  readonly traces: readonly MethodTrace[];
}

/** Share of the run the offset must stay within the bound at its end to count as converged. */
export const MIN_CONVERGED_SHARE = 0.25;

const round = (v: number, digits = 1): number => (Number.isFinite(v) ? Number(v.toFixed(digits)) : NaN);

function summarize(tr: MethodTrace, thresholdNs: number, params: PtpSyncParams): MethodSummary {
  // Converged only if the run then stays within the bound for at least its last quarter: a noisy
  // method (NTP) that happens to be inside the bound at its last few samples has not converged.
  const idx0 = convergenceIndex(tr.offset, thresholdNs);
  const idx = idx0 !== undefined && tr.offset.length - idx0 >= MIN_CONVERGED_SHARE * tr.offset.length ? idx0 : undefined;
  const from = idx ?? Math.floor(tr.offset.length / 2);
  const t0 = tr.t[from] ?? 0;
  const mFrom = tr.measuredT.findIndex((t) => t >= t0);
  const label = PTP_SYNC_METHOD_LABEL[tr.method];
  const convergenceS = idx === undefined ? null : tr.t[idx]!;
  const offset = offsetStats(tr.offset.slice(from));
  const measuredAfter = mFrom < 0 ? [] : tr.measured.slice(mFrom);
  const measured = offsetStats(measuredAfter);
  const lastPolls = (tr.pollOk ?? []).slice(-8);
  const chrony = chronyView({
    method: tr.method,
    pollLog2: params.pollLog2,
    measured: measuredAfter,
    measuredT: mFrom < 0 ? [] : tr.measuredT.slice(mFrom),
    delays: (tr.measuredDelay ?? []).slice(Math.max(0, mFrom)),
    finalFreqPpb: tr.finalFreqPpb,
    lastPolls,
    precisionNs: 1e9 / Number(params.counterHz),
  });
  return {
    method: tr.method,
    label,
    convergenceS,
    offset,
    tsError: offsetStats(tr.tsError.slice(from)),
    measured,
    conclusion: concludeMethod(label, offset, measured, convergenceS, thresholdNs),
    chrony,
    failedPolls: tr.failedPolls,
    steps: tr.steps,
    finalFreqPpb: tr.finalFreqPpb,
    ...(tr.vcpuSpread.length > 0 || tr.vcpuFailures > 0
      ? { vcpuSpreadMaxNs: tr.vcpuSpread.reduce((a, b) => Math.max(a, b), 0), vcpuFailures: tr.vcpuFailures }
      : {}),
  };
}

/** Runs every method of the params' variant (default merged) with the given parameters (no scenario wrapping). */
export function runPtpSyncReport(adapter: PtpSyncArchAdapter, params: PtpSyncParams, thresholdNs: number, onProgress?: (f: number) => void): PtpSyncReport {
  const traces: MethodTrace[] = [];
  const methods = ptpSyncMethodsOf(adapter, params.variant);
  methods.forEach((m, i) => {
    traces.push(runMethod(adapter, m, params));
    onProgress?.((i + 1) / methods.length);
  });
  return { params, traces, methods: traces.map((t) => summarize(t, thresholdNs, params)) };
}

function asVariant(adapter: PtpSyncArchAdapter, v: string): PtpSyncVariant {
  const known = ptpSyncVariants(adapter);
  if (!(known as readonly string[]).includes(v)) throw new RangeError(`ptp-sync on ${adapter.arch} has no variant "${v}" (variants: ${known.join(', ')})`);
  return v as PtpSyncVariant;
}

function paramsFrom(adapter: PtpSyncArchAdapter, input: ScenarioRunInput): { params: PtpSyncParams; thresholdNs: number } {
  const o = input.options;
  const num = (k: string, d: number): number => (typeof o[k] === 'number' ? o[k] : d);
  const stealPct = num('stealPct', 0);
  return {
    params: {
      variant: asVariant(adapter, input.variant),
      hostNtpSlew: { pollLog2: num('hostNtpPollLog2', HOST_NTP_POLL_LOG2), sdPpb: num('hostNtpSlewPpb', HOST_NTP_SLEW_SD_PPB) },
      ...(stealPct > 0 ? { steal: { probability: stealPct / 100, duration: { kind: 'lognormal', medianNs: num('stealUs', STEAL_MEDIAN_US) * 1000, gsd: STEAL_GSD } } } : {}),
      nicScale: num('nicScale', 1),
      seed: input.seed,
      durationS: num('durationS', 600),
      pollLog2: num('pollLog2', 3),
      offsetNs: BigInt(Math.round(num('offsetNs', 500_000))),
      driftPpm: num('driftPpm', 25),
      counterHz: BigInt(Math.round(num('counterHz', Number(adapter.defaultCounterHz)))),
      latencyScale: num('latencyScale', 1),
      sysOffsetSamples: num('sysOffsetSamples', 5),
      samplesPerPoll: 8,
      servo: o.servo === 'chrony' ? 'chrony' : 'pi',
      dpollLog2: num('dpollLog2', -2),
      trace: input.trace === true,
      ...(num('vcpus', 1) > 1 ? { vcpus: num('vcpus', 1) } : {}), // absent at 1: the default result stays as it was
    },
    thresholdNs: num('convergeNs', 1000),
  };
}

/** models nothing in the kernel: the scenario harness around the methods (see README). */
export function runPtpSync(adapter: PtpSyncArchAdapter, input: ScenarioRunInput): ScenarioResult {
  const { params, thresholdNs } = paramsFrom(adapter, input);
  const rep = runPtpSyncReport(adapter, params, thresholdNs, input.onProgress);
  const figures: ScenarioFigure[] = [];
  for (const m of rep.methods) {
    const L = m.label;
    figures.push(
      { label: `${L}: mean offset`, value: round(m.offset.meanNs), unit: 'ns' },
      { label: `${L}: RMS offset`, value: round(m.offset.rmsNs), unit: 'ns' },
      { label: `${L}: p50 |offset|`, value: round(m.offset.p50AbsNs), unit: 'ns' },
      { label: `${L}: p99 |offset|`, value: round(m.offset.p99AbsNs), unit: 'ns' },
      { label: `${L}: max |offset|`, value: round(m.offset.maxAbsNs), unit: 'ns' },
      { label: `${L}: convergence`, value: m.convergenceS === null ? 'never' : round(m.convergenceS, 0), unit: m.convergenceS === null ? undefined : 's' },
      { label: `${L}: measured RMS (what the servo sees)`, value: round(m.measured.rmsNs), unit: 'ns' },
      { label: `${L}: timestamp RMS error (incl. counter resolution)`, value: round(m.tsError.rmsNs), unit: 'ns' },
    );
    figures.push(
      { label: `${L}: mean offset the guest measured (what it believes)`, value: round(m.measured.meanNs), unit: 'ns' },
      { label: `${L}: hidden bias (true − believed)`, value: round(m.conclusion.hiddenBiasNs), unit: 'ns' },
      { label: `${L}: chronyc sources`, value: m.chrony.sourcesText },
      ...m.chrony.trackingText.slice(2, 10).map((line) => {
        const [k, v] = line.split(/\s+:\s+/, 2);
        return { label: `${L}: chronyc tracking ${k!.trim()}`, value: v ?? '' };
      }),
    );
    if (m.vcpuSpreadMaxNs !== undefined) {
      figures.push(
        { label: `${L}: max PHC disagreement between vCPUs`, value: round(m.vcpuSpreadMaxNs), unit: 'ns' },
        { label: `${L}: failed cross-vCPU readings`, value: m.vcpuFailures ?? 0 },
      );
    }
  }
  const first = rep.traces[0];
  const series: ScenarioSeries[] = first === undefined ? [] : [
    {
      name: 'offset',
      title: `Guest − host CLOCK_REALTIME (${input.arch}, ${Number(params.counterHz) / 1e6} MHz counter)`,
      xLabel: 'virtual time (s)',
      yLabel: 'offset (ns)',
      x: first.t,
      y: Object.fromEntries(rep.traces.map((t) => [PTP_SYNC_METHOD_LABEL[t.method], t.offset])),
      caption: 'True offset of the disciplined guest clock from the host clock, per measurement method, from the same seed.',
      kind: 'line',
    },
    {
      name: 'measured',
      title: 'Offset as the servo measured it',
      xLabel: 'virtual time (s)',
      yLabel: 'measured offset (ns)',
      x: first.measuredT,
      y: Object.fromEntries(rep.traces.map((t) => [PTP_SYNC_METHOD_LABEL[t.method], t.measured.length === first.measuredT.length ? t.measured : first.measuredT.map((_, i) => t.measured[i] ?? null)])),
      caption: 'The guest − PHC offset each poll measured: a biased method can look as good as an exact one here.',
      kind: 'line',
    },
  ];
  const variant = params.variant ?? 'merged';
  const primary = rep.methods.find((m) => m.method === PRIMARY_METHOD[variant]) ?? rep.methods[0];
  // With several vCPUs the PHC must read the same from each (one VM-wide counter offset): within 2 ns, no failures.
  const vcpusAgree = primary?.vcpuSpreadMaxNs === undefined || (primary.vcpuSpreadMaxNs <= 2 && primary.vcpuFailures === 0);
  const verdict = ptpSyncVerdict(primary?.conclusion, vcpusAgree);
  const events = rep.traces.flatMap((t) => t.events ?? []);
  const chrony = Object.fromEntries(rep.methods.map((m) => [m.method, { label: m.label, tracking: m.chrony.trackingText, sources: m.chrony.sourcesText }]));
  return {
    ...(input.trace === true ? { trace: events } : {}),
    scenario: 'ptp-sync',
    variant: input.variant,
    arch: input.arch,
    seed: input.seed,
    verdict,
    summary: `${primary?.conclusion.text ?? 'no result'}. ${rep.methods
      .map((m) => `${m.label}: RMS ${round(m.offset.rmsNs)} ns (mean ${round(m.offset.meanNs)} ns)`)
      .join('; ')}`,
    headline: { label: `${primary?.label ?? 'offset'} RMS offset`, value: round(primary?.offset.rmsNs ?? NaN), unit: 'ns' },
    figures,
    series,
    details: {
      params: { ...params, offsetNs: Number(params.offsetNs), counterHz: Number(params.counterHz) },
      convergenceThresholdNs: thresholdNs,
      latency: adapter.defaultLatency,
      latencySource: adapter.latencySource,
      methods: rep.methods,
      primaryMethod: primary?.method ?? null,
      conclusion: primary?.conclusion ?? null,
      chrony,
      errorSources: PTP_SYNC_ERROR_SOURCES,
      ...(rep.methods.some((m) => m.method === 'ntp') ? { nicPath: VIRTIO_NET_NTP_PATH } : {}),
    },
  };
}
