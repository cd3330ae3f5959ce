/**
 * The built `kvmlab` as a careful user meets it (issue 21): a reader that closes the pipe
 * early, output paths under /proc, composition and option mistakes, help wrapped to 80 columns
 * when piped, unknown help topics, --expect. Each case spawns bin/kvmlab.js.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { BIN, expectUsageError, spawnCli, type Captured } from './helpers.js';

const STACK = /\n\s+at .*:\d+:\d+/;
/** Piped, no COLUMNS: the width the CLI must keep to is 80. */
const narrow = (args: readonly string[]): Captured => spawnCli(args, undefined, { COLUMNS: undefined });
const longLines = (text: string, width = 80): string[] => text.split('\n').filter((l) => [...l].length > width);

let scenarios: readonly string[] = [];
beforeAll(() => {
  const err = inject('cliBuildError');
  if (err !== '') throw new Error(err);
  scenarios = (JSON.parse(spawnCli(['list', '--json']).stdout) as { scenarios: { name: string }[] }).scenarios.map((s) => s.name);
});

/** Spawns the CLI with stdout a pipe that is closed before it writes anything. */
function withClosedStdout(args: readonly string[]): Promise<{ status: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
    child.stdout.destroy();
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('close', (status) => resolve({ status, stderr }));
  });
}

describe('a reader that goes away (EPIPE)', () => {
  for (const args of [['run', 'ptp-sync', '--help'], ['list'], ['--help'], ['caps', '--arch', 'x86_64'], ['run', 'vmx-dirty-log', '--json']]) {
    it(`kvmlab ${args.join(' ')} into a closed pipe: no stack trace, the command's own status`, async () => {
      const r = await withClosedStdout(args);
      expect(r.stderr).not.toMatch(/EPIPE|Unhandled|node:events/);
      expect(r.stderr).not.toMatch(STACK);
      expect(r.status).toBe(0);
    });
  }

  it('`kvmlab run ptp-sync --help | head -1` prints one line and the CLI exits 0', () => {
    const r = spawnSync('bash', ['-c', `"${process.execPath}" "${BIN}" run ptp-sync --help | head -1; echo "status=\${PIPESTATUS[0]}" >&2`], { encoding: 'utf8' });
    expect(r.stdout).toMatch(/^Usage: kvmlab run/);
    expect(r.stdout.trimEnd().split('\n')).toHaveLength(1);
    expect(r.stderr.trim()).toBe('status=0');
  });

  it('stdout closed outright (>&-): still exit 0 and quiet', () => {
    const r = spawnSync('bash', ['-c', `"${process.execPath}" "${BIN}" list >&-`], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stderr).toBe('');
  });
});

describe('output paths are checked before any work', () => {
  const cases: readonly [string, readonly string[], RegExp][] = [
    ['demo --out under /proc (Node 20 mkdir -p would loop there)', ['demo', '--out', '/proc/kvmlab-x'], /^kvmlab: --out \/proc\/kvmlab-x: cannot create folder \/proc\/kvmlab-x/],
    ['demo --out two levels under /proc', ['demo', '--out', '/proc/kvmlab-x/y'], /^kvmlab: --out \/proc\/kvmlab-x\/y: cannot create folder \/proc\/kvmlab-x/],
    ['run --report in a folder that does not exist', ['run', 'vmx-dirty-log', '--report', '/proc/kvmlab-x/r.html'], /^kvmlab: --report \/proc\/kvmlab-x\/r\.html: folder \/proc\/kvmlab-x does not exist/],
    ['run --trace where no file can be created', ['run', 'vmx-dirty-log', '--trace', '/proc/kvmlab-t.json'], /^kvmlab: --trace \/proc\/kvmlab-t\.json: cannot write it/],
    ['run --report naming a folder', ['run', 'vmx-dirty-log', '--report', tmpdir()], /is a directory; give a file name/],
    ['run --variant all --report under /proc', ['run', 'vmx-dirty-log', '--variant', 'all', '--report', '/proc/x/r.html'], /folder \/proc\/x does not exist/],
  ];
  for (const [name, args, pattern] of cases) {
    it(`${name}: exit 2, one line, no hang`, () => {
      const t0 = Date.now();
      const r = spawnCli(args);
      expectUsageError(r, pattern);
      // Refused before the run: well under the minute the spawn allows (no run, no hang).
      expect(Date.now() - t0).toBeLessThan(30_000);
    });
  }

  it('demo --out creates missing folders level by level and leaves no probe file', () => {
    const base = mkdtempSync(join(tmpdir(), 'kvmlab-out-'));
    const out = join(base, 'a', 'b');
    // --seed x fails after the folder check would have run: use a real but bad value later.
    const r = spawnCli(['demo', '--out', out, '--seed', '1.5']);
    expect(r.status).toBe(2); // seed refused by the parser before the action: no folder made
    expect(existsSync(out)).toBe(false);
    const ok = spawnCli(['run', 'vmx-dirty-log', '--report', join(base, 'r.html')]);
    expect(ok.status, ok.stderr).toBe(0);
    expect(readdirSync(base).sort()).toEqual(['r.html']);
  });
});

describe('user mistakes exit 2 with one line naming the value and the rule', () => {
  const cases: readonly [string, readonly string[], RegExp][] = [
    ['conform with an arm64 plugin', ['conform', '--plugins', 'ptp-kvm-arm64'], /^kvmlab: plugin "ptp-kvm-arm64" runs on arm64, not on x86_64$/],
    ['caps with a plugin of the other arch', ['caps', '--arch', 'x86_64', '--plugins', 'psci-conduit'], /^kvmlab: plugin "psci-conduit" runs on arm64, not on x86_64$/],
    ['caps with a plugin whose requirement is missing', ['caps', '--arch', 'arm64', '--plugins', 'ptp-kvm-arm64'], /^kvmlab: cannot compose ptp-kvm-arm64 on arm64: MISSING_REQUIREMENT .*requires plugin "psci-conduit"/],
    ['a non-number', ['run', 'nvmx-hlt-cr3', '--frames', 'abc'], /^kvmlab: option --frames "abc": must be a number$/],
    ['an option of the other arch', ['run', 'ptp-sync', '--arch', 'arm64', '--guest-tsc-khz', '5'], /option --guest-tsc-khz is for ptp-sync on x86_64, and this run is on arm64/],
    ['a bad --expect', ['run', 'vmx-dirty-log', '--expect', 'maybe'], /argument 'maybe' is invalid\. Allowed choices are fixed, bug/],
    ['a bad seed', ['run', 'vmx-dirty-log', '--seed', 'abc'], /"abc": the seed must be an integer/],
    ['an unknown help topic', ['help', 'foo'], /^kvmlab: unknown command "foo" for help \(commands: list, run, demo/],
    ['an unknown command', ['foo'], /unknown command 'foo'/],
  ];
  for (const [name, args, pattern] of cases) {
    it(`${name}: kvmlab ${args.join(' ')}`, () => expectUsageError(spawnCli(args), pattern));
  }

  it('help <command> prints that command\'s help, exit 0', () => {
    const r = spawnCli(['help', 'caps']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^Usage: kvmlab caps/);
  });
});

describe('--expect and exit statuses', () => {
  it('a reproduced bug is exit 0 without --expect, 0 with --expect bug, 1 with --expect fixed', () => {
    const args = ['run', 'vmx-dirty-log', '--variant', 'pre-fix'];
    expect(spawnCli(args).status).toBe(0);
    expect(spawnCli([...args, '--expect', 'bug']).status).toBe(0);
    const r = spawnCli([...args, '--expect', 'fixed']);
    expect(r.status).toBe(1);
    expect(r.stderr).toBe('kvmlab: expected the fix to hold (verdict ok), got verdict bug-reproduced\n');
  });

  it('the merged variant passes --expect fixed and fails --expect bug', () => {
    expect(spawnCli(['run', 'vmx-dirty-log', '--expect', 'fixed']).status).toBe(0);
    expect(spawnCli(['run', 'vmx-dirty-log', '--expect', 'bug']).status).toBe(1);
  });
});

describe('help and output fit 80 columns when piped', () => {
  it('kvmlab --help, every command\'s --help, list and caps: no line over 80 columns', () => {
    const runs: string[][] = [['--help'], ['list'], ['caps', '--arch', 'arm64'], ['caps', '--arch', 'x86_64'], ['caps', '--arch', 'arm64', '--plugins', 'none'], ['affected', '--kernel', '5.4']];
    for (const c of ['list', 'run', 'demo', 'caps', 'affected', 'conform', 'schema', 'playground']) runs.push([c, '--help']);
    for (const args of runs) {
      const r = narrow(args);
      expect(r.status, `${args.join(' ')}: ${r.stderr}`).toBe(0);
      expect(longLines(r.stdout), args.join(' ')).toEqual([]);
    }
  });

  it('run <scenario> --help for every scenario: within 80 columns, variants listed, kebab-case only', () => {
    expect(scenarios.length).toBeGreaterThan(3);
    for (const s of scenarios) {
      const r = narrow(['run', s, '--help']);
      expect(r.status, r.stderr).toBe(0);
      expect(longLines(r.stdout), s).toEqual([]);
      expect(r.stdout).toMatch(new RegExp(`Variants of ${s} \\(--variant`));
      // Flags and the words that describe them are the user's: no camelCase option keys (a
      // JSON field name and units aside).
      expect(r.stdout.replace(/schemaVersion|\b[kMG]Hz\b/g, '').match(/--[a-z0-9-]*[A-Z]|\b[a-z]+[A-Z][a-z]+\b/g) ?? [], s).toEqual([]);
    }
  });

  it('ptp-sync --help shows both arches\' options, grouped, and one visible duration option', () => {
    const r = narrow(['run', 'ptp-sync', '--help']);
    expect(r.stdout).toContain('Options of ptp-sync:');
    expect(r.stdout).toContain('Options of ptp-sync on x86_64 only:');
    expect(r.stdout).toMatch(/--guest-tsc-khz <n>/);
    expect(r.stdout).toMatch(/on arm64 \(@kvmlab\/ptp-kvm-arm64\): none, rfc-v4, merged \(default\)/);
    expect(r.stdout).toMatch(/on x86_64 \(@kvmlab\/ptp-kvm-x86\): none, merged \(default\)/);
    expect(r.stdout).toMatch(/--duration <d>/);
    expect(r.stdout).not.toContain('--duration-s <n>');
    // The hidden alias still works (a deprecation note on stderr).
    const alias = spawnCli(['run', 'ptp-sync', '--arch', 'arm64', '--duration-s', '1']);
    expect(alias.stderr).toMatch(/--duration-s is deprecated; use --duration/);
  });

  it('a wider terminal ($COLUMNS) gets longer lines', () => {
    const wide = spawnCli(['list'], undefined, { COLUMNS: '160' });
    expect(longLines(wide.stdout, 160)).toEqual([]);
    expect(longLines(wide.stdout, 80).length).toBeGreaterThan(0);
  });
});

describe('one verdict vocabulary and one number format per unit', () => {
  it('vmx-dirty-log (which says "pass" inside) prints ok, in the table and in JSON', () => {
    const t = spawnCli(['run', 'vmx-dirty-log']);
    expect(t.stdout).toMatch(/^vmx-dirty-log \(x86_64, variant merged, seed 0\): ok$/m);
    const j = JSON.parse(spawnCli(['run', 'vmx-dirty-log', '--json']).stdout) as { result: { verdict: string } };
    expect(j.result.verdict).toBe('ok');
  });

  it('every ns figure in a ptp-sync run has exactly one decimal', () => {
    const t = spawnCli(['run', 'ptp-sync', '--arch', 'arm64']);
    const ns = [...t.stdout.matchAll(/(-?[\d.]+) ns$/gm)].map((m) => m[1]!);
    expect(ns.length).toBeGreaterThan(0);
    for (const v of ns) expect(v).toMatch(/^-?\d+\.\d$/);
  });
});
