import { resolveScenarioOptions, type ScenarioResult } from '@kvmlab/hypervisor-core';
import { HIDDEN_BIAS_NS, PRECISE_IDEAL_BOUND_NS, VIRTIO_NET_NTP_PATH, type MethodSummary } from '@kvmlab/ptp-kvm-core';
import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { ARM64_HVC_LATENCY, ptpSyncScenario } from '../src/index.js';

const run = (variant: string, opts: Record<string, unknown> = {}, seed = 1): ScenarioResult =>
  ptpSyncScenario.run({ variant, arch: 'arm64', seed, options: resolveScenarioOptions(ptpSyncScenario, opts) });
const methods = (r: ScenarioResult): Record<string, MethodSummary> =>
  Object.fromEntries((r.details.methods as MethodSummary[]).map((m) => [m.method, m]));
/** Mean of a lognormal given its median and geometric SD. */
const lnMean = (l: { medianNs: number; gsd: number }): number => l.medianNs * Math.exp(Math.log(l.gsd) ** 2 / 2);

describe('ptp-sync variants on arm64 (none, rfc-v4, merged)', () => {
  const none = run('none');
  const rfc = run('rfc-v4');
  const merged = run('merged');

  it('declares the three variants, pre-fix first, merged by default; an unknown one is a RangeError naming it', () => {
    expect(ptpSyncScenario.variants).toEqual(['none', 'rfc-v4', 'merged']);
    expect(ptpSyncScenario.defaultVariant).toBe('merged');
    expect(() => run('pre-fix', { durationS: 16 })).toThrow(/no variant "pre-fix"/);
  });

  it('each variant runs only its own methods', () => {
    expect(Object.keys(methods(none))).toEqual(['ntp']);
    expect(Object.keys(methods(rfc))).toEqual(['half-delay', 'sys-offset']);
    expect(Object.keys(methods(merged))).toEqual(['precise', 'sys-offset']);
  });

  it('none: NTP over virtio-net is degraded — bug-reproduced, and far worse than PRECISE', () => {
    expect(none.verdict).toBe('bug-reproduced');
    const ntp = methods(none).ntp!;
    expect(ntp.convergenceS).toBeNull();
    expect(ntp.conclusion.degraded).toBe(true);
    expect(ntp.offset.rmsNs).toBeGreaterThan(100 * methods(merged).precise!.offset.rmsNs);
    expect(ntp.offset.rmsNs).toBeGreaterThan(5_000); // µs-scale, as NTP-only guests are reported
    expect(none.summary).toMatch(/^NTP over virtio-net: degraded/);
  });

  it.each([0, 2, 3])('none, seed %i: never converged (inside ±1 µs only now and then, never for the last quarter of the run), µs off', (seed) => {
    const ntp = methods(run('none', {}, seed)).ntp!;
    expect(ntp.convergenceS).toBeNull();
    expect(ntp.offset.rmsNs).toBeGreaterThan(5_000);
  });

  it('none: the guest settles by half the request/response asymmetry, which its own θ cannot show (sign and size from the path model)', () => {
    const ntp = methods(none).ntp!;
    // θ assumes symmetric paths: the guest ends (E[request] − E[response]) / 2 off; here negative (the response is slower).
    const expected = (lnMean(VIRTIO_NET_NTP_PATH.request as { medianNs: number; gsd: number }) - lnMean(VIRTIO_NET_NTP_PATH.response as { medianNs: number; gsd: number })) / 2;
    expect(expected).toBeLessThan(0);
    expect(ntp.offset.meanNs).toBeLessThan(0.6 * expected);
    expect(ntp.offset.meanNs).toBeGreaterThan(1.5 * expected);
    expect(Math.abs(ntp.measured.meanNs)).toBeLessThan(0.2 * Math.abs(ntp.offset.meanNs));
  });

  it('rfc-v4: bug-reproduced — the guest is about +half a round trip ahead while it believes it is centred', () => {
    expect(rfc.verdict).toBe('bug-reproduced');
    const hd = methods(rfc)['half-delay']!;
    expect(hd.conclusion.biased).toBe(true);
    expect(hd.conclusion.degraded).toBe(false);
    // The RFC adds (t2 − t1) / 2 of the HVC to the device time the host read after the entry: the bias is E[entry + exit] / 2 > 0.
    const halfRtt = (lnMean(ARM64_HVC_LATENCY.entry) + lnMean(ARM64_HVC_LATENCY.exit)) / 2;
    expect(hd.offset.meanNs).toBeGreaterThan(0.85 * halfRtt);
    expect(hd.offset.meanNs).toBeLessThan(1.15 * halfRtt);
    expect(hd.conclusion.hiddenBiasNs).toBeGreaterThan(HIDDEN_BIAS_NS);
    expect(Math.abs(hd.measured.meanNs)).toBeLessThan(0.05 * hd.offset.meanNs);
    expect(rfc.summary).toMatch(/^RFC v4 half-delay: biased: \+\d+(\.\d)? ns the guest cannot see; the guest believes [+−]\d+(\.\d)? ns .*it is really \+\d+/);
    expect(rfc.headline.label).toBe('RFC v4 half-delay RMS offset');
  });

  it('merged: ok — PRECISE has no hidden bias; the headline is its RMS offset', () => {
    expect(merged.verdict).toBe('ok');
    const p = methods(merged).precise!;
    expect(p.conclusion.biased || p.conclusion.degraded).toBe(false);
    expect(merged.headline.label).toBe('PTP_SYS_OFFSET_PRECISE RMS offset');
  });

  it('chronyc view: a refclock source line for the PHC, a server line for NTP, and a tracking block', () => {
    const p = methods(merged).precise!;
    expect(p.chrony.sourcesText).toMatch(/^#\* PHC0\s+0\s+3\s+377\s+8\s+[+-]\d+ns\[\s*[+-]\d+ns\] \+\/-\s+\d+ns$/);
    expect(methods(none).ntp!.chrony.sourcesText).toMatch(/^\^\* 192\.168\.122\.1\s+2\s+3\s+377\s+8\s+[+-]\d+(us|ns)\[/);
    expect(p.chrony.trackingText.map((l) => l.split(':')[0]!.trim())).toEqual([
      'Reference ID', 'Stratum', 'System time', 'Last offset', 'RMS offset', 'Frequency', 'Residual freq', 'Skew', 'Root delay', 'Root dispersion', 'Update interval', 'Leap status',
    ]);
    // chrony's RMS offset is what the guest measured, never the truth.
    expect(p.chrony.tracking.rmsOffsetS * 1e9).toBeCloseTo(p.measured.rmsNs, 6);
    // The guest's frequency correction cancels the 25 ppm the counter runs fast: chrony would say the clock is 25 ppm fast.
    expect(p.chrony.tracking.frequencyPpm).toBeCloseTo(-25, 0);
    expect(merged.figures.find((f) => f.label === 'PTP_SYS_OFFSET_PRECISE: chronyc sources')?.value).toBe(p.chrony.sourcesText);
    expect(merged.figures.some((f) => f.label === 'PTP_SYS_OFFSET_PRECISE: chronyc tracking RMS offset')).toBe(true);
    expect(methods(none).ntp!.chrony.tracking.rootDelayS).toBeGreaterThan(20e-6);
  });
});

describe('error sources (named, switchable)', () => {
  it("the host's NTP slewing is what lifts PRECISE above rounding: 0 ppb ⇒ ≤ the ideal bound, the default ⇒ several ns", () => {
    const ideal = methods(run('merged', { hostNtpSlewPpb: 0, durationS: 600 })).precise!;
    const slewed = methods(run('merged', { durationS: 600 })).precise!;
    expect(ideal.offset.maxAbsNs).toBeLessThanOrEqual(PRECISE_IDEAL_BOUND_NS);
    expect(slewed.offset.rmsNs).toBeGreaterThan(2 * ideal.offset.rmsNs);
    expect(slewed.offset.rmsNs).toBeGreaterThan(1);
  });
  it('steal time shifts the RFC half-delay guest further ahead (half of each preemption is added); PRECISE (seed 1) stays within its ideal bound', () => {
    const opts = { hostNtpSlewPpb: 0, durationS: 300 };
    const calm = methods(run('rfc-v4', opts))['half-delay']!;
    const stolen = methods(run('rfc-v4', { ...opts, stealPct: 2 }))['half-delay']!;
    expect(stolen.offset.meanNs).toBeGreaterThan(calm.offset.meanNs + 500);
    expect(methods(run('merged', { ...opts, stealPct: 2 })).precise!.offset.maxAbsNs).toBeLessThanOrEqual(PRECISE_IDEAL_BOUND_NS);
  });
  it('the NIC model scales: a 10× slower virtio-net path gives a ~10× larger NTP error', () => {
    const a = methods(run('none', { durationS: 600 })).ntp!;
    const b = methods(run('none', { durationS: 600, nicScale: 10 })).ntp!;
    expect(b.offset.rmsNs).toBeGreaterThan(5 * a.offset.rmsNs);
  });
});

describe('the documented PRECISE bound', () => {
  test.prop([fc.integer({ min: 0, max: 2 ** 31 - 1 }), fc.double({ min: 0, max: 100, noNaN: true })], { numRuns: 8 })(
    'on an ideal host (no NTP slewing, no steal), for any seed and hypercall latency, PRECISE stays within PRECISE_IDEAL_BOUND_NS of the host after convergence',
    (seed, latencyScale) => {
      const p = methods(run('merged', { hostNtpSlewPpb: 0, durationS: 120, latencyScale }, seed)).precise!;
      expect(p.convergenceS).not.toBeNull();
      expect(p.offset.maxAbsNs).toBeLessThanOrEqual(PRECISE_IDEAL_BOUND_NS);
    },
  );

  it('steal is reported, not bounded: a slice stolen during lock-in leaves a transient of tens of ns that the servo removes', () => {
    // found by this file's former property (steal was in it): seed 835786207, 1 % steal
    const r = run('merged', { hostNtpSlewPpb: 0, durationS: 120, latencyScale: 0, stealPct: 1 }, 835786207);
    const p = methods(r).precise!;
    expect(p.convergenceS).not.toBeNull();
    expect(p.offset.maxAbsNs).toBeGreaterThan(PRECISE_IDEAL_BOUND_NS);
    expect(p.offset.maxAbsNs).toBeLessThan(40); // ≈ the residual frequency error × one 750 µs slice
    expect(methods(run('merged', { hostNtpSlewPpb: 0, durationS: 120, latencyScale: 0, stealPct: 0 }, 835786207)).precise!.offset.maxAbsNs).toBeLessThanOrEqual(PRECISE_IDEAL_BOUND_NS);
    const series = r.series.find((s) => s.name === 'offset')!;
    const precise = series.y['PTP_SYS_OFFSET_PRECISE']!;
    const late = precise.filter((v, i) => v !== null && (series.x[i] ?? 0) > 100).map((v) => Math.abs(v ?? 0));
    expect(late.length).toBeGreaterThan(10);
    expect(Math.max(...late)).toBeLessThanOrEqual(PRECISE_IDEAL_BOUND_NS); // settled again by the end
  });
});
