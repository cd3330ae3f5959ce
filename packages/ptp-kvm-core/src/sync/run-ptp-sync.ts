/**
 * runPtpSync(): the ptp-sync scenario for any arch. Every method the adapter supports runs on
 * its own hypervisor built from the same seed, and the result compares them: offset statistics
 * after convergence, convergence time, and the offset over time for charts.
 */
import type { ScenarioFigure, ScenarioResult, ScenarioRunInput, ScenarioSeries } from '@kvmlab/hypervisor-core';
import type { PtpSyncArchAdapter, PtpSyncMethod } from './adapter.js';
import { runMethod, type MethodTrace, type PtpSyncParams } from './run-method.js';
import { convergenceIndex, offsetStats, type OffsetStats } from './stats.js';

export const PTP_SYNC_METHOD_LABEL: Readonly<Record<PtpSyncMethod, string>> = {
  precise: 'PTP_SYS_OFFSET_PRECISE',
  'sys-offset': 'PTP_SYS_OFFSET',
  'half-delay': 'RFC v4 half-delay',
};

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
}

export interface PtpSyncReport {
  readonly params: PtpSyncParams;
  readonly methods: readonly MethodSummary[];
  readonly traces: readonly MethodTrace[];
}

const round = (v: number, digits = 1): number => (Number.isFinite(v) ? Number(v.toFixed(digits)) : NaN);

function summarize(tr: MethodTrace, thresholdNs: number): MethodSummary {
  const idx = convergenceIndex(tr.offset, thresholdNs);
  const from = idx ?? Math.floor(tr.offset.length / 2);
  const t0 = tr.t[from] ?? 0;
  const mFrom = tr.measuredT.findIndex((t) => t >= t0);
  return {
    method: tr.method,
    label: PTP_SYNC_METHOD_LABEL[tr.method],
    convergenceS: idx === undefined ? null : tr.t[idx]!,
    offset: offsetStats(tr.offset.slice(from)),
    tsError: offsetStats(tr.tsError.slice(from)),
    measured: offsetStats(mFrom < 0 ? [] : tr.measured.slice(mFrom)),
    failedPolls: tr.failedPolls,
    steps: tr.steps,
    finalFreqPpb: tr.finalFreqPpb,
    ...(tr.vcpuSpread.length > 0 || tr.vcpuFailures > 0
      ? { vcpuSpreadMaxNs: tr.vcpuSpread.reduce((a, b) => Math.max(a, b), 0), vcpuFailures: tr.vcpuFailures }
      : {}),
  };
}

/** Runs every method of the adapter with the given parameters (no scenario wrapping). */
export function runPtpSyncReport(adapter: PtpSyncArchAdapter, params: PtpSyncParams, thresholdNs: number, onProgress?: (f: number) => void): PtpSyncReport {
  const traces: MethodTrace[] = [];
  adapter.methods.forEach((m, i) => {
    traces.push(runMethod(adapter, m, params));
    onProgress?.((i + 1) / adapter.methods.length);
  });
  return { params, traces, methods: traces.map((t) => summarize(t, thresholdNs)) };
}

function paramsFrom(adapter: PtpSyncArchAdapter, input: ScenarioRunInput): { params: PtpSyncParams; thresholdNs: number } {
  const o = input.options;
  const num = (k: string, d: number): number => (typeof o[k] === 'number' ? o[k] : d);
  return {
    params: {
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
  const precise = rep.methods.find((m) => m.method === 'precise') ?? rep.methods[0];
  // With several vCPUs the PHC must read the same from each (one VM-wide counter offset): within 2 ns, no failures.
  const vcpusAgree = precise?.vcpuSpreadMaxNs === undefined || (precise.vcpuSpreadMaxNs <= 2 && precise.vcpuFailures === 0);
  const ok = precise !== undefined && precise.convergenceS !== null && vcpusAgree;
  const events = rep.traces.flatMap((t) => t.events ?? []);
  return {
    ...(input.trace === true ? { trace: events } : {}),
    scenario: 'ptp-sync',
    variant: input.variant,
    arch: input.arch,
    seed: input.seed,
    verdict: ok ? 'ok' : 'fail',
    summary: rep.methods
      .map((m) => `${m.label}: RMS ${round(m.offset.rmsNs)} ns (mean ${round(m.offset.meanNs)} ns)`)
      .join('; '),
    headline: { label: `${precise?.label ?? 'offset'} RMS offset`, value: round(precise?.offset.rmsNs ?? NaN), unit: 'ns' },
    figures,
    series,
    details: {
      params: { ...params, offsetNs: Number(params.offsetNs), counterHz: Number(params.counterHz) },
      convergenceThresholdNs: thresholdNs,
      latency: adapter.defaultLatency,
      latencySource: adapter.latencySource,
      methods: rep.methods,
    },
  };
}
