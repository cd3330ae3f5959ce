/**
 * Every option of every installed scenario, given 0, -1, 1.5, NaN, 1e12, 'abc' and the ends of
 * its range (issue 22): the CLI either runs it within the limits it announces, or exits 2 with
 * one message line (plus the usage line) naming the flag or the limit — never a stack trace,
 * a raw RangeError, or a run that outgrows them. Runs go in-process from a small baseline under
 * tight limits (--max-events, --max-memory-mib), so every accepted run is small by construction.
 */
import { describe, expect, it } from 'vitest';
import type { ScenarioDef } from '@kvmlab/hypervisor-core';
import { installedScenarios } from '../src/index.js';
import { optionFlags } from '../src/scenario-options.js';
import { cli, type Captured } from './helpers.js';

/** Small runs of each scenario, the point every option is varied from. */
const BASELINE: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  'nested-migration': { 'l1-gib': '2', 'l2-mib': '64', 'wss-mib': '16', 'hot-mib': '4', 'max-rounds': '3' },
  'nested-muen-migration': { 'dest-frames': '5', 'start-ms': '0', 'max-rounds': '2', 'bandwidth-mbps': '100000' },
  'nvmx-hlt-cr3': { frames: '20' },
  'ptp-sync': { 'duration-s': '16', 'retry-probe-reads': '0' },
};
/**
 * Tight limits: an accepted run does at most this much (the defaults are 1e8 and 2048 MiB), so
 * nested-migration, whose smallest run estimates 8e5 events, is only validated here; under
 * KVMLAB_SOAK the limits are 100× and it runs too.
 */
const LIMITS = process.env.KVMLAB_SOAK ? ['--max-events', '2e7', '--max-memory-mib', '1024'] : ['--max-events', '2e5', '--max-memory-mib', '512'];
const BAD = ['0', '-1', '1.5', 'NaN', '1e12', 'abc'];

interface Case {
  readonly def: ScenarioDef;
  readonly arch: string;
  readonly flag: string;
  readonly value: string | undefined;
}

function cases(): Case[] {
  const out: Case[] = [];
  for (const def of installedScenarios) {
    for (const arch of def.arches) {
      for (const f of optionFlags(def)) {
        const s = f.spec;
        let values: (string | undefined)[];
        if (s.type === 'number') values = [...BAD, ...(s.min !== undefined ? [String(s.min)] : []), ...(s.max !== undefined ? [String(s.max)] : [])];
        else if (s.type === 'enum') values = [...BAD, ...s.values];
        else values = [undefined, ...BAD]; // a boolean flag alone, or with a stray value
        for (const value of values) out.push({ def, arch, flag: f.flag, value });
        if (s.type === 'boolean') out.push({ def, arch, flag: `no-${f.flag}`, value: undefined });
      }
    }
  }
  return out;
}

function argsOf(c: Case): string[] {
  const base = { ...(BASELINE[c.def.name] ?? {}) };
  delete base[c.flag];
  delete base[c.flag.replace(/^no-/, '')];
  const args = ['run', c.def.name, '--arch', c.arch, ...LIMITS, '--json'];
  for (const [k, v] of Object.entries(base)) if (optionFlags(c.def).some((f) => f.flag === k)) args.push(`--${k}`, v);
  args.push(`--${c.flag}`);
  if (c.value !== undefined) args.push(c.value);
  return args;
}

/** stderr without `kvmlab: note:` lines (the deprecated --duration-s alias announces itself). */
function withoutNotes(stderr: string): string {
  return stderr.split('\n').filter((l) => !l.startsWith('kvmlab: note:')).join('\n');
}

/** Exit 2: one message line naming the flag, a limit, or the stray argument, then the usage line. */
function isCleanRefusal(r: Captured, c: Case): boolean {
  const lines = withoutNotes(r.stderr).trimEnd().split('\n');
  return r.status === 2 && r.stdout === '' && lines.length === 2 && /^usage: kvmlab/.test(lines[1]!) &&
    /^kvmlab: /.test(lines[0]!) && !/\bat .+:\d+:\d+/.test(r.stderr) &&
    (lines[0]!.includes(`--${c.flag.replace(/^no-/, '')}`) || /--max-(events|memory-mib)/.test(lines[0]!) || /too many arguments|unknown/.test(lines[0]!) ||
      /option --[a-z0-9-]+ /.test(lines[0]!)); // a rule between options names the other option
}

describe('every scenario option at 0, -1, 1.5, NaN, 1e12, abc and the ends of its range', () => {
  const all = cases();
  it(`${all.length} runs: each runs within the announced limits or exits 2 with one line`, async () => {
    const bad: string[] = [];
    let ran = 0;
    let refused = 0;
    for (const c of all) {
      const args = argsOf(c);
      const r = await cli(args, installedScenarios);
      if (r.status === 0 || (r.status === 1 && withoutNotes(r.stderr) === '')) {
        // Ran: a result in the JSON contract (status 1 = verdict "fail", no error).
        const json = JSON.parse(r.stdout) as { kind: string; result: { scenario: string } };
        if (json.kind !== 'run' || json.result.scenario !== c.def.name) bad.push(`${args.join(' ')}: odd output`);
        ran++;
      } else if (isCleanRefusal(r, c)) {
        refused++;
      } else {
        bad.push(`${args.join(' ')} → exit ${r.status}: ${r.stderr.split('\n').slice(0, 2).join(' | ')}`);
      }
    }
    console.log(`scenario option bounds: ${all.length} cases, ${ran} ran, ${refused} refused with exit 2`);
    expect(bad).toEqual([]);
    expect(ran).toBeGreaterThan(0);
    expect(refused).toBeGreaterThan(0);
  }, process.env.KVMLAB_SOAK ? 3_600_000 : 300_000);

  it('the issue\'s cases: a fractional downtime runs; 1 MB/s, a 1 µs kvmclock period and a 1 TiB L1 are refused with the estimate and the flag', async () => {
    const run = (a: string[]) => cli(['run', ...a, '--json'], installedScenarios);
    const frac = await run(['nested-migration', ...Object.entries(BASELINE['nested-migration']!).flatMap(([k, v]) => [`--${k}`, v]), '--downtime-ms', '1.5']);
    expect(frac.status, frac.stderr).toBe(0);
    for (const [a, limit] of [
      [['nested-migration', '--bandwidth-mbps', '1'], '--max-events'],
      [['ptp-sync', '--arch', 'x86_64', '--kvmclock-update-us', '1'], '--max-events'],
      [['nested-migration', '--l1-gib', '1024', '--l2-mib', '65536', '--wss-mib', '65536', '--hot-mib', '65536'], '--max-memory-mib'],
    ] as const) {
      const r = await run([...a]);
      expect(r.status).toBe(2);
      const line = r.stderr.split('\n')[0]!;
      expect(line).toMatch(/needs about [0-9.e]+( GiB| MiB)?( of memory| events), beyond the limit of/);
      expect(line).toContain(limit);
    }
  });

  it('raising the limit lets a refused run start (the check, not the scenario, refused it)', async () => {
    const a = ['run', 'nvmx-hlt-cr3', '--frames', '50', '--json'];
    expect((await cli([...a, '--max-events', '100'], installedScenarios)).status).toBe(2);
    expect((await cli([...a, '--max-events', '1e6'], installedScenarios)).status).toBe(0);
    expect((await cli([...a, '--max-events', 'abc'], installedScenarios)).stderr).toMatch(/--max-events must be a positive number/);
  });
});
