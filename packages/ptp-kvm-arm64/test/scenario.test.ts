import { resolveScenarioOptions, type ScenarioResult } from '@kvmlab/hypervisor-core';
import { runPtpSync, type MethodSummary, type PtpKvmArchHooks } from '@kvmlab/ptp-kvm-core';
import { describe, expect, it } from 'vitest';
import { ARM64_HVC_LATENCY, arm64PtpSyncAdapter, ptpSyncScenario, scenarios } from '../src/index.js';

// The mechanism tests run on an ideal host (no host NTP slewing): conversion rounding only.
const IDEAL = { hostNtpSlewPpb: 0 };
const runV = (variant: string, opts: Record<string, unknown> = {}, seed = 1): ScenarioResult =>
  ptpSyncScenario.run({ variant, arch: 'arm64', seed, options: resolveScenarioOptions(ptpSyncScenario, { ...IDEAL, ...opts }) });
const run = (opts: Record<string, unknown> = {}, seed = 1): ScenarioResult => runV('merged', opts, seed);
const methods = (r: ScenarioResult): Record<string, MethodSummary> =>
  Object.fromEntries((r.details.methods as MethodSummary[]).map((m) => [m.method, m]));

describe('ptp-sync scenario (arm64)', () => {
  const base = run();
  const m = methods(base);
  const rfc = methods(runV('rfc-v4'));

  it('is exported as `scenarios` with the ScenarioDef contract', () => {
    expect(scenarios.map((s) => s.name)).toEqual(['ptp-sync']);
    expect(ptpSyncScenario.arches).toEqual(['arm64']);
    expect(ptpSyncScenario.package).toBe('@kvmlab/ptp-kvm-arm64');
    expect(ptpSyncScenario.options.pollLog2?.default).toBe(3);
    expect(ptpSyncScenario.options.counterHz?.default).toBe(25_000_000);
  });
  it('same seed ⇒ identical result; another seed ⇒ different samples', () => {
    expect(JSON.stringify(run())).toBe(JSON.stringify(base));
    expect(JSON.stringify(run({}, 2))).not.toBe(JSON.stringify(base));
  });
  it('merged and rfc-v4 methods converge; PRECISE holds the guest within a few ns of the host', () => {
    expect(base.verdict).toBe('ok');
    for (const k of ['precise', 'sys-offset']) expect(m[k]?.convergenceS).not.toBeNull();
    expect(rfc['half-delay']?.convergenceS).not.toBeNull();
    expect(m.precise!.offset.rmsNs).toBeLessThan(5);
    expect(m.precise!.offset.maxAbsNs).toBeLessThan(10);
  });
  it('PTP_SYS_OFFSET is biased by the entry/exit asymmetry and noisier than PRECISE', () => {
    const so = m['sys-offset']!;
    expect(Math.abs(so.offset.meanNs)).toBeGreaterThan(50);
    expect(so.offset.rmsNs).toBeGreaterThan(10 * m.precise!.offset.rmsNs);
  });
  it('the RFC v4 half-delay compensation shifts the guest by about half a round trip, which its own measurements cannot see', () => {
    const hd = rfc['half-delay']!;
    const halfRtt = (ARM64_HVC_LATENCY.entry.medianNs + ARM64_HVC_LATENCY.exit.medianNs) / 2;
    expect(hd.offset.meanNs).toBeGreaterThan(0.8 * halfRtt);
    expect(hd.offset.meanNs).toBeLessThan(1.3 * halfRtt);
    expect(Math.abs(hd.measured.meanNs)).toBeLessThan(0.1 * hd.offset.meanNs);
  });
  it('a 25 MHz counter bounds each guest timestamp to 40 ns steps; 1 GHz does not', () => {
    const fast = methods(run({ counterHz: 1e9, durationS: 200 }));
    expect(m.precise!.tsError.rmsNs).toBeGreaterThan(15);
    expect(fast.precise!.tsError.rmsNs).toBeLessThan(3);
  });
  it('without latency the bracketed method is as exact as PRECISE up to counter resolution', () => {
    const r = methods(run({ latencyScale: 0, counterHz: 1e9, durationS: 200 }));
    expect(Math.abs(r['sys-offset']!.offset.meanNs)).toBeLessThan(3);
    expect(methods(runV('rfc-v4', { latencyScale: 0, counterHz: 1e9, durationS: 200 }))['half-delay']!.offset.meanNs).toBeLessThan(3);
  });
  it('vcpus: 4 (created 1 ms apart): every vCPU\'s PHC agrees with vCPU 0\'s within 2 ns and the run passes; the default run has no vCPU figures', () => {
    const r = run({ vcpus: 4, durationS: 120 });
    const mm = methods(r);
    expect(r.verdict).toBe('ok');
    expect(mm.precise!.vcpuSpreadMaxNs).toBeLessThanOrEqual(2);
    expect(mm.precise!.vcpuFailures).toBe(0);
    expect(r.figures.map((f) => f.label)).toContain('PTP_SYS_OFFSET_PRECISE: max PHC disagreement between vCPUs');
    expect(base.figures.some((f) => f.label.includes('vCPUs'))).toBe(false);
    expect(m.precise!.vcpuSpreadMaxNs).toBeUndefined();
    expect((base.details.params as Record<string, unknown>).vcpus).toBeUndefined();
  });
  it('a vCPU whose PTP cycles ran 1000 ticks ahead (what a per-vCPU CNTVOFF gave) fails the cross-vCPU check and the verdict', () => {
    const adapter = {
      ...arm64PtpSyncAdapter,
      build: (i: Parameters<typeof arm64PtpSyncAdapter.build>[0]) => {
        const setup = arm64PtpSyncAdapter.build(i);
        const ahead = (h: PtpKvmArchHooks): PtpKvmArchHooks => ({
          init: () => h.init(),
          getClock: () => h.getClock(),
          getCrosststamp: () => {
            const x = h.getCrosststamp();
            return { ...x, cycles: x.cycles + 1000n };
          },
          exit: () => h.exit(),
        });
        return { ...setup, otherCpus: setup.otherCpus!.map(ahead) };
      },
    };
    const r = runPtpSync(adapter, { variant: 'merged', arch: 'arm64', seed: 1, options: resolveScenarioOptions(ptpSyncScenario, { vcpus: 2, durationS: 64 }) });
    expect(methods(r).precise!.vcpuFailures).toBeGreaterThan(0);
    expect(r.verdict).toBe('fail');
  });
  it('returns an offset series per method for charts', () => {
    const s = base.series.find((x) => x.name === 'offset')!;
    expect(Object.keys(s.y)).toEqual(['PTP_SYS_OFFSET_PRECISE', 'PTP_SYS_OFFSET']);
    for (const ys of Object.values(s.y)) expect(ys).toHaveLength(s.x.length);
    expect(s.x.length).toBe(600 / 8 * 8);
  });
  it('one hour of virtual time at poll 3 runs in well under a second of wall time per method', () => {
    const t0 = performance.now();
    const r = run({ durationS: 3600 });
    const ms = performance.now() - t0;
    expect(r.verdict).toBe('ok');
    expect(ms).toBeLessThan(3000); // ~0.2–0.4 s measured on the shared 2-core box; slack for load
  });
});

describe('ptp-sync trace', () => {
  it('a traced run records every method’s HVCs and offsets on their own tracks', () => {
    const r = ptpSyncScenario.run({ variant: 'merged', arch: 'arm64', seed: 1, trace: true, options: resolveScenarioOptions(ptpSyncScenario, { durationS: 64 }) });
    const tracks = new Set((r.trace ?? []).map((e) => e.track));
    for (const m of ['precise', 'sys-offset']) {
      expect(tracks.has(`${m}/vm0/vcpu0`)).toBe(true);
      expect(tracks.has(`guest/${m}`)).toBe(true);
    }
    expect(run({ durationS: 64 }).trace).toBeUndefined();
  });
});

describe('ptp-sync with the chrony-like servo', () => {
  it('PRECISE still lands within a few ns; filtering cuts PTP_SYS_OFFSET jitter but not its bias', () => {
    const pi = methods(run({ durationS: 1200, convergeNs: 10 }));
    const ch = methods(run({ durationS: 1200, convergeNs: 10, servo: 'chrony' }));
    expect(ch.precise!.offset.rmsNs).toBeLessThan(5);
    expect(ch['sys-offset']!.offset.sdNs).toBeLessThan(pi['sys-offset']!.offset.sdNs / 2);
    expect(ch['sys-offset']!.offset.meanNs).toBeGreaterThan(50);
    expect(methods(runV('rfc-v4', { durationS: 1200, convergeNs: 10, servo: 'chrony' }))['half-delay']!.offset.meanNs).toBeGreaterThan(400);
  });
});
