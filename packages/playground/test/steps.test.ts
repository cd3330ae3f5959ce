/**
 * The scrubber's events, built from real scenario results (run in Node, as the worker runs
 * them): each pre-fix run has its first symptom where the result says, each fix has none.
 */
import { describe, expect, it } from 'vitest';
import { firstBad } from '../web/steps/index.js';
import { runScenarios } from '../web/worker/run.js';
import { defaultState, parseState, runVariants, scenarioInfo, stateToSearch } from '../web/state.js';
import { catalogInfo } from '../web/worker/catalog.js';

const run = (scenario: string, variant: string, options: Record<string, number | boolean | string> = {}) =>
  runScenarios({ scenario, arch: 'x86_64', variants: [variant], seed: 0, options }, () => undefined);

describe('step-through events', () => {
  it('nvmx-hlt-cr3 pre-fix: the first bad step is Muen\'s check at the first corruption, with its log line', () => {
    const r = run('nvmx-hlt-cr3', 'pre-fix');
    const steps = r.steps[0]!;
    const first = (r.results[0]!.details['corruptions'] as { frame: number }[])[0]!;
    const i = firstBad(steps);
    expect(steps[i]!.where).toBe(`frame ${first.frame}`);
    expect(steps[i]!.log).toBe((r.results[0]!.details['errorLines'] as string[])[0]);
    expect(steps.filter((s) => s.bad).length).toBe(r.results[0]!.headline.value);
  });

  it('nvmx-hlt-cr3 merged: no bad step', () => {
    expect(firstBad(run('nvmx-hlt-cr3', 'merged').steps[0]!)).toBe(-1);
  });

  it('vmx-dirty-log pre-fix fails at sync 5; merged passes every sync', () => {
    const pre = run('vmx-dirty-log', 'pre-fix').steps[0]!;
    expect(pre[firstBad(pre)]!.where).toBe('sync 5');
    expect(pre[firstBad(pre)]!.log).toMatch(/Page 0 incorrectly reported clean/);
    const merged = run('vmx-dirty-log', 'merged').steps[0]!;
    expect(merged.length).toBe(7);
    expect(firstBad(merged)).toBe(-1);
  });

  it('nested-migration pre-fix: the first round already misses written pages', () => {
    const steps = run('nested-migration', 'pre-fix', { l1GiB: 2 }).steps[0]!;
    expect(steps[firstBad(steps)]!.where).toBe('nested L2 workload, round 1');
  }, 30_000);
});

describe('the URL state', () => {
  const cat = catalogInfo();
  it('round-trips every field', () => {
    const s = { ...defaultState(cat), plugins: { 'nvmx-cr3': 'pre-fix', 'kvm-mmu-pml': '' }, kernel: '5.4', options: { frames: 40, enableEpt: false }, seed: 7, step: 12, view: 0, matrix: true };
    expect(parseState(stateToSearch(s), cat)).toEqual(s);
  });

  it('drops what the catalog does not know', () => {
    const s = parseState('?arch=arm64&plugins=nvmx-cr3:pre-fix,ptp-kvm-arm64:bogus&scenario=nvmx-hlt-cr3&o.nope=1&seed=-3', cat);
    expect(s.arch).toBe('arm64');
    expect(s.plugins).toEqual({ 'ptp-kvm-arm64': '' });
    expect(s.scenario).toBe('ptp-sync');
    expect(s.options).toEqual({});
    expect(s.seed).toBe(0);
  });

  it('takes a variant-axes scenario\'s cell from the composed plugins', () => {
    const info = scenarioInfo(cat, { arch: 'x86_64', scenario: 'nested-muen-migration' })!;
    const s = { ...defaultState(cat), scenario: info.name, plugins: { 'nvmx-cr3': 'pre-fix', 'kvm-mmu-pml': 'merged' } };
    expect(runVariants(info, s, undefined)).toEqual(['kvm-mmu-pml=merged,nvmx-cr3=pre-fix']);
    expect(runVariants(info, { ...s, matrix: true }, undefined)).toEqual(info.variants);
  });
});
