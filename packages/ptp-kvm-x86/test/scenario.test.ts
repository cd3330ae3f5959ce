import { resolveScenarioOptions, type ScenarioResult } from '@kvmlab/hypervisor-core';
import { describe, expect, it } from 'vitest';
import { scenarios } from '../src/index.js';

const def = scenarios.find((s) => s.name === 'ptp-sync')!;
const run = (options: Record<string, unknown>, seed = 1): ScenarioResult =>
  def.run({ variant: 'merged', arch: 'x86_64', seed, options: resolveScenarioOptions(def, options) });
const fig = (r: ScenarioResult, label: string): number | string | undefined => r.figures.find((f) => f.label === label)?.value;

describe('ptp-sync --arch x86_64', () => {
  it('is exported for x86_64 only, by @kvmlab/ptp-kvm-x86, with the x86 options beside the shared ones', () => {
    expect(def.arches).toEqual(['x86_64']);
    expect(def.package).toBe('@kvmlab/ptp-kvm-x86');
    expect(Object.keys(def.options)).toEqual(expect.arrayContaining(['durationS', 'pollLog2', 'counterHz', 'kvmclockUpdateUs', 'guestTscKhz', 'retryProbeReads']));
  });

  const short = { durationS: 96, retryProbeReads: 2000 };
  const r = run(short);

  it('PRECISE converges to a few ns; PTP_SYS_OFFSET is worse (VMCALL asymmetry and jitter enter it)', () => {
    expect(r.verdict).toBe('ok');
    const precise = Number(fig(r, 'PTP_SYS_OFFSET_PRECISE: RMS offset'));
    const sys = Number(fig(r, 'PTP_SYS_OFFSET: RMS offset'));
    expect(precise).toBeLessThan(5);
    expect(sys).toBeGreaterThan(4 * precise);
  });

  it('reports the pvclock retries; the retry probe exercises the loop at the rate the mechanism predicts', () => {
    expect(fig(r, 'PTP_SYS_OFFSET_PRECISE: pvclock retries (hypercall re-issued)')).toBeTypeOf('number');
    const retries = Number(fig(r, 'retry probe: pvclock retries'));
    expect(retries).toBeGreaterThan(20);
    expect(fig(r, 'retry probe: extra VMCALLs')).toBe(retries);
    const got = Number(fig(r, 'retry probe: retries per 1000 cross-timestamps'));
    const predicted = Number(fig(r, 'retry probe: predicted per 1000 (round trip / rewrite period)'));
    expect(Math.abs(got - predicted)).toBeLessThan(predicted * 0.35);
  });

  it('is deterministic: the same seed gives the same figures', () => {
    expect(run(short).figures).toEqual(r.figures);
  });

  it('guest clocksource tsc: every PRECISE poll fails with ENODEV, so it never converges (case 32 in the scenario)', () => {
    const t = run({ durationS: 32, retryProbeReads: 0, guestClocksource: 'tsc' });
    expect(t.verdict).toBe('fail');
    expect(fig(t, 'PTP_SYS_OFFSET_PRECISE: cross-timestamps')).toBeGreaterThan(0);
  });
});
