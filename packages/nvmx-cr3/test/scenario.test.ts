/** Scenario nvmx-hlt-cr3: Reto Buerki's report reproduced pre-fix, absent with the RFC and the fix. */
import { resolveScenarioOptions, type ScenarioResult } from '@kvmlab/hypervisor-core';
import { describe, expect, it } from 'vitest';
import { nvmxHltCr3, runNvmxHltCr3, scenarios } from '../src/index.js';

const run = (variant: string, opts: Record<string, unknown> = {}, seed = 1, trace = false): ScenarioResult =>
  nvmxHltCr3.run({ variant, arch: 'x86_64', seed, options: resolveScenarioOptions(nvmxHltCr3, opts), trace });
const fig = (r: ScenarioResult, label: string): number | string | undefined => r.figures.find((f) => f.label === label)?.value;
const MUEN_LINE = /^ERROR CR3 of subject \d+ changed: 16#[0-9a-f]{16}# exit 16#00(34|01)#$/;

describe('scenario nvmx-hlt-cr3', () => {
  it('is exported in `scenarios` with the three variants, merged by default', () => {
    expect(scenarios).toContain(nvmxHltCr3);
    expect(nvmxHltCr3.variants).toEqual(['pre-fix', 'rfc-muen', 'merged']);
    expect(nvmxHltCr3.defaultVariant).toBe('merged');
    expect(() => resolveScenarioOptions(nvmxHltCr3, { frames: 0 })).toThrow(RangeError);
  });

  it('pre-fix reproduces the report: S1 gets S3\'s CR3 first, then a VM subject\'s own CR3 (16#10ff9000#)', () => {
    const r = run('pre-fix');
    expect(r.verdict).toBe('bug-reproduced');
    const errors = (r.details['errorLines'] as string[]);
    // With seed 1 a device interrupt (exit 1) wakes the squashed S1 before its tick does (spec §4 row 5: 52 or 1).
    expect(errors[0]).toBe('ERROR CR3 of subject 1 changed: 16#000000000183d000# exit 16#0001#');
    for (const l of errors) expect(l).toMatch(MUEN_LINE);
    const raw = runNvmxHltCr3({ variant: 'pre-fix', seed: 1 });
    const first = raw.corruptions[0]!;
    expect(raw.frames[first.frame]).toMatchObject({ subject: 1, squashed: true, exitReason: 1, vmcs02Cr3: 0x183d000n });
    expect(raw.frames[first.frame - 1]).toMatchObject({ subject: 3, squashed: false }); // S3 ran last
    expect(raw.corruptions.some((c) => c.exitReason === 52)).toBe(true); // timer wakes too
    expect(raw.corruptions.some((c) => c.subject === 1 && c.found === 0x10ff9000n)).toBe(true);
    expect(raw.corruptions.some((c) => c.subject >= 8)).toBe(true); // VM subjects get mixed up too
    expect(raw.corruptions.some((c) => c.exitReason === 1)).toBe(true); // external-interrupt wakes too
    expect(Number(fig(r, 'HLT-squashed entries'))).toBeGreaterThan(0);
  });

  it("with onCorruption = 'halt' Muen stops at the first detection; with only the timer waking subjects, with the report's line", () => {
    // Reto Buerki's log: the preemption timer (16#0034#) woke S1; no device interrupts.
    const r = runNvmxHltCr3({ variant: 'pre-fix', onCorruption: 'halt', irqPerMs: 0 });
    expect(r.log.slice(-2)).toEqual(['ERROR CR3 of subject 1 changed: 16#000000000183d000# exit 16#0034#', 'ERROR Halting CPU']);
    expect(r.log).toContain('PML4 address of subject 16#0001#: 16#000000000189f000#');
    expect(r.log).toContain('PML4 address of subject 16#0003#: 16#000000000183d000#');
    expect(r.corruptions).toHaveLength(1);
    expect(r.halted).toBe(true);
    expect(r.framesRun).toBe(r.corruptions[0]!.frame + 1); // nothing ran after the detection
    const withIrqs = runNvmxHltCr3({ variant: 'pre-fix', onCorruption: 'halt' });
    expect(withIrqs.log.slice(-2)).toEqual(['ERROR CR3 of subject 1 changed: 16#000000000183d000# exit 16#0001#', 'ERROR Halting CPU']);
    expect(withIrqs.corruptions).toHaveLength(1);
  });

  it.each(['rfc-muen', 'merged'])('%s: no corruption although entries are squashed', (variant) => {
    const r = run(variant);
    expect(r.verdict).toBe('ok');
    expect(fig(r, 'CR3 corruptions detected by Muen')).toBe(0);
    expect(fig(r, 'HLT-squashed entries')).toBe(fig(run('pre-fix'), 'HLT-squashed entries'));
  });

  it.each(['pre-fix', 'rfc-muen', 'merged'])('%s with enableEpt = false: no corruption', (variant) => {
    const r = run(variant, { enableEpt: false, frames: 150 });
    expect(r.verdict).toBe('ok');
    expect(Number(fig(r, 'HLT-squashed entries'))).toBeGreaterThan(0);
  });

  it('GUEST_CR3 VMWRITEs per nested entry: 1 with the fix (every entry), fewer pre-fix (only entries that reach vmx_set_cr3)', () => {
    expect(fig(run('merged'), 'GUEST_CR3 VMWRITE per nested entry')).toBe(1);
    expect(Number(fig(run('pre-fix'), 'GUEST_CR3 VMWRITE per nested entry'))).toBeLessThan(1);
    // the RFC writes in nested_vmx_load_cr3 on both paths: one more per exit (vmcs01 ← host CR3)
    expect(Number(fig(run('rfc-muen'), 'GUEST_CR3 VMWRITE per nested exit'))).toBe(Number(fig(run('merged'), 'GUEST_CR3 VMWRITE per nested exit')) + 1);
  });

  it('is deterministic: same seed, same result', () => {
    expect(JSON.stringify(run('pre-fix', {}, 7))).toBe(JSON.stringify(run('pre-fix', {}, 7)));
  });

  it('gives a CR3 timeline series and, when asked, trace events per vCPU and L2 subject', () => {
    const r = run('pre-fix', { frames: 60 }, 1, true);
    const s = r.series[0]!;
    expect(s.x.length).toBe(60);
    expect(Object.keys(s.y)).toEqual(expect.arrayContaining(['vmcs02.GUEST_CR3', 'S1 vmcs12.guest_cr3', 'corruption detected', 'squashed entry']));
    expect(s.y['corruption detected']!.some((v) => v !== null)).toBe(true);
    const tracks = new Set(r.trace!.map((e) => e.track));
    expect(tracks.has('vm0/vcpu0')).toBe(true);
    expect(tracks.has('vm0/vcpu0 L2 S1')).toBe(true);
    expect(r.trace!.some((e) => e.name.startsWith('Muen: CR3 of subject'))).toBe(true);
    expect(run('merged', { frames: 10 }).trace).toBeUndefined();
  });
});
