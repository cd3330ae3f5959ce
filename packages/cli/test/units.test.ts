import { fc, test } from '@fast-check/vitest';
import type { TraceEvent } from '@kvmlab/hypervisor-core';
import { describe, expect, it } from 'vitest';
import { ScenarioCatalog } from '../src/catalog.js';
import { nsToUs, toChromeTrace } from '../src/chrome-trace.js';
import { UsageError } from '../src/errors.js';
import { stringifyJson } from '../src/json-output.js';
import { KERNEL_TABLE, kernelRows, parseKernelVersion, variantForKernel } from '../src/kernel-table.js';
import { durationOption, kebab, optionFlags, parseScenarioOptions } from '../src/scenario-options.js';
import { brokenScenario, fakeScenario } from './fake-scenario.js';

const RUNS = process.env.KVMLAB_SOAK ? 2000 : 100;

describe('scenario options (zod from ScenarioOptionSpec)', () => {
  it('fills defaults and converts flag text', () => {
    expect(parseScenarioOptions(fakeScenario, {})).toEqual({ durationS: 2, pages: 8, verbose: false, pattern: 'seq' });
    expect(parseScenarioOptions(fakeScenario, { pages: ' 12 ', verbose: true, pattern: 'random' })).toEqual({ durationS: 2, pages: 12, verbose: true, pattern: 'random' });
  });

  it('flags are kebab-case; a name run uses itself becomes --opt-<name>', () => {
    expect(kebab('durationS')).toBe('duration-s');
    expect(kebab('pollLog2')).toBe('poll-log2');
    expect(kebab('l1GiB')).toBe('l1-gib');
    expect(kebab('wssMiB')).toBe('wss-mib');
    const def = { ...fakeScenario, options: { seed: { type: 'number', default: 1, description: 'x' } } } as const;
    expect(optionFlags(def).map((f) => f.flag)).toEqual(['opt-seed']);
  });

  test.prop([fc.integer({ min: 1, max: 64 })], { numRuns: RUNS })('every integer in range parses to itself', (n) => {
    expect(parseScenarioOptions(fakeScenario, { pages: String(n) }).pages).toBe(n);
  });

  test.prop([fc.oneof(fc.integer({ max: 0 }), fc.integer({ min: 65 }))], { numRuns: RUNS })('every integer out of range is a UsageError naming the flag', (n) => {
    expect(() => parseScenarioOptions(fakeScenario, { pages: String(n) })).toThrow(/^option --pages "-?\d+": must be [≥≤]/);
  });

  test.prop([fc.string().filter((s) => !/^\s*[-+]?(\d+(\.\d*)?|\.\d+)(e[-+]?\d+)?\s*$/i.test(s))], { numRuns: RUNS })('non-numeric text never becomes a number', (s) => {
    expect(() => parseScenarioOptions(fakeScenario, { pages: s })).toThrow(UsageError);
  });

  it('--duration converts units to the option unit', () => {
    expect(durationOption(fakeScenario, '3')).toEqual(['durationS', '3']);
    expect(durationOption(fakeScenario, '250ms')).toEqual(['durationS', '0.25']);
    expect(durationOption(fakeScenario, '2min')).toEqual(['durationS', '120']);
    expect(() => durationOption(brokenScenario, '1s')).toThrow(/--duration 1s: scenario broken has no duration to set/);
  });
});

describe('kernel version table', () => {
  it('records the mainline releases from the spec: PML 5.4, GUEST_CR3 5.5, arm64 ptp_kvm 5.13, x86 clock pairing 4.11', () => {
    const since = Object.fromEntries(KERNEL_TABLE.map((e) => [e.id, e.since]));
    expect(since).toEqual({ 'nested-pml': '5.4', 'nvmx-guest-cr3': '5.5', 'ptp-kvm-arm64': '5.13', 'ptp-kvm-x86': '4.11' });
  });

  it('parses release, stable, rc and uname -r forms', () => {
    expect(parseKernelVersion('5.4')).toMatchObject({ major: 5, minor: 4 });
    expect(parseKernelVersion('v5.5.13')).toMatchObject({ major: 5, minor: 5 });
    expect(parseKernelVersion('5.13-rc1')).toMatchObject({ major: 5, minor: 13 });
    expect(parseKernelVersion('6.1.0-18-amd64')).toMatchObject({ major: 6, minor: 1 });
    expect(() => parseKernelVersion('5')).toThrow(UsageError);
  });

  it('5.3 has both x86 bugs; 5.4.0 only the CR3 one, 5.4.3 (its stable backport) neither; 5.5 neither', () => {
    const affected = (v: string): string[] => kernelRows(parseKernelVersion(v)).filter((r) => r.status === 'vulnerable').map((r) => r.entry.id);
    expect(affected('5.3.1')).toEqual(['nested-pml', 'nvmx-guest-cr3']);
    expect(affected('5.3.16')).toEqual(['nested-pml']);
    expect(affected('5.4')).toEqual(['nvmx-guest-cr3']);
    expect(affected('5.4.2')).toEqual(['nvmx-guest-cr3']);
    expect(affected('5.4.3')).toEqual([]);
    expect(affected('5.5')).toEqual([]);
  });

  it('run --kernel: variants per kernel; before its ptp_kvm a kernel runs ptp-sync\'s no-ptp_kvm variant (none)', () => {
    expect(variantForKernel('vmx-dirty-log', 'x86_64', parseKernelVersion('5.3'))).toBe('pre-fix');
    expect(variantForKernel('nested-migration', 'x86_64', parseKernelVersion('5.4'))).toBe('merged');
    expect(variantForKernel('nvmx-hlt-cr3', 'x86_64', parseKernelVersion('5.4'))).toBe('pre-fix');
    expect(variantForKernel('nvmx-hlt-cr3', 'x86_64', parseKernelVersion('5.10'))).toBe('merged');
    expect(variantForKernel('ptp-sync', 'arm64', parseKernelVersion('5.13'))).toBe('merged');
    expect(variantForKernel('ptp-sync', 'arm64', parseKernelVersion('5.12'))).toBe('none');
    expect(variantForKernel('ptp-sync', 'x86_64', parseKernelVersion('4.10'))).toBe('none');
    expect(variantForKernel('ptp-sync', 'x86_64', parseKernelVersion('4.11'))).toBe('merged');
    expect(variantForKernel('nvmx-hlt-cr3', 'x86_64', parseKernelVersion('5.4.0-150-generic'), ['04f11ef45810'])).toBe('merged');
    expect(variantForKernel('ptp-sync', 'x86_64', parseKernelVersion('5.4'))).toBe('merged');
  });
});

describe('Chrome trace-event conversion', () => {
  test.prop([fc.bigInt({ min: 0n, max: 1n << 50n })], { numRuns: RUNS })('ns → µs is exact to the nanosecond for 13 days of virtual time', (ns) => {
    expect(Math.round(nsToUs(ns) * 1000)).toBe(Number(ns));
  });

  it('one thread per track with thread_name metadata; X/i/C mapped; µs units', () => {
    const events: TraceEvent[] = [
      { ph: 'X', ts: 1500n, dur: 2000n, track: 'vm0/vcpu0', name: 'guest run' },
      { ph: 'i', ts: 3500n, track: 'L2 S1', name: 'exit', args: { reason: 'HLT' } },
      { ph: 'C', ts: 4000n, track: 'vm0/vcpu0', name: 'dirty pages', value: 7 },
    ];
    const t = toChromeTrace(events, { title: 'x' });
    const meta = t.traceEvents.filter((e) => e.name === 'thread_name');
    expect(meta.map((e) => [e.tid, e.args?.name])).toEqual([[1, 'vm0/vcpu0'], [2, 'L2 S1']]);
    const body = t.traceEvents.filter((e) => e.ph !== 'M');
    expect(body[0]).toMatchObject({ ph: 'X', ts: 1.5, dur: 2, tid: 1 });
    expect(body[1]).toMatchObject({ ph: 'i', s: 't', ts: 3.5, tid: 2, args: { reason: 'HLT' } });
    expect(body[2]).toMatchObject({ ph: 'C', ts: 4, args: { 'dirty pages': 7 } });
  });
});

describe('catalog and JSON', () => {
  it('groups one name over arches and rejects a second definition for the same arch', () => {
    const arm = { ...fakeScenario, arches: ['arm64'] as const, package: 'a' };
    const cat = new ScenarioCatalog([fakeScenario, arm]);
    expect(cat.entry('fake-dirty').arches).toEqual(['x86_64', 'arm64']);
    expect(cat.resolve('fake-dirty', 'arm64').def.package).toBe('a');
    expect(cat.resolve('fake-dirty').arch).toBe('x86_64');
    expect(() => new ScenarioCatalog([fakeScenario, fakeScenario])).toThrow(/defined twice/);
  });

  it('stringifyJson never emits bigint or non-finite numbers', () => {
    expect(stringifyJson({ a: 1n << 70n, b: Number.NaN, c: Infinity })).toBe('{\n  "a": "1180591620717411303424",\n  "b": null,\n  "c": null\n}\n');
  });
});

describe('result contract check', () => {
  it('a scenario result outside the contract is a failed run naming the field', async () => {
    const { runScenario } = await import('../src/runner.js');
    const bad = { ...fakeScenario, run: (i: Parameters<typeof fakeScenario.run>[0]) => ({ ...fakeScenario.run(i), verdict: 'maybe' as 'ok' }) };
    expect(() => runScenario({ def: bad, arch: 'x86_64', variant: 'merged', seed: 0, options: parseScenarioOptions(bad, {}), trace: false })).toThrow(/returned a result outside the contract at verdict/);
    const ragged = {
      ...fakeScenario,
      run: (i: Parameters<typeof fakeScenario.run>[0]) => {
        const r = fakeScenario.run(i);
        return { ...r, series: [{ ...r.series[0]!, y: { a: [1] } }] };
      },
    };
    expect(() => runScenario({ def: ragged, arch: 'x86_64', variant: 'merged', seed: 0, options: parseScenarioOptions(ragged, {}), trace: false })).toThrow(/series\.0: every y column must have one value per x/);
  });
});
