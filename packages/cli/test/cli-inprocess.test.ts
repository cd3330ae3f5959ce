import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cliOutputJson, demoOutputJson, runOutputJson } from '../src/json-output.js';
import { brokenScenario, fakeScenario } from './fake-scenario.js';
import { cli, expectUsageError } from './helpers.js';

const defs = [fakeScenario, brokenScenario];

describe('kvmlab run (in-process, fake scenario)', () => {
  it('prints a table with verdict, summary and figures', async () => {
    const r = await cli(['run', 'fake-dirty', '--variant', 'pre-fix'], defs);
    expect(r.status).toBe(0); // a reproduced bug is not an error
    expect(r.stdout).toMatch(/^fake-dirty \(x86_64, variant pre-fix, seed 0\): bug-reproduced/);
    expect(r.stdout).toMatch(/pages lost\s+\d+/);
    expect(r.stderr).toBe('');
  });

  it('--json matches the documented schema, with the options used', async () => {
    const r = await cli(['run', 'fake-dirty', '--json', '--pages', '16', '--pattern', 'random', '--verbose'], defs);
    const doc = runOutputJson.parse(JSON.parse(r.stdout));
    expect(doc.schemaVersion).toBe(1);
    expect(doc.result.options).toEqual({ durationS: 2, pages: 16, verbose: true, pattern: 'random' });
    expect(doc.result.verdict).toBe('ok');
    expect(doc.result.details).toEqual({ log: ['started', 'done'] });
    expect(cliOutputJson.safeParse(doc).success).toBe(true);
  });

  it('same seed gives byte-identical JSON; another seed differs', async () => {
    const a = await cli(['run', 'fake-dirty', '--json', '--seed', '7', '--pattern', 'random'], defs);
    const b = await cli(['run', 'fake-dirty', '--json', '--seed', '7', '--pattern', 'random'], defs);
    const c = await cli(['run', 'fake-dirty', '--json', '--seed', '8', '--pattern', 'random'], defs);
    expect(a.stdout).toBe(b.stdout);
    expect(c.stdout).not.toBe(a.stdout);
  });

  it('--duration converts units into the scenario option (durationS)', async () => {
    const r = await cli(['run', 'fake-dirty', '--json', '--duration', '500ms'], defs);
    const doc = runOutputJson.parse(JSON.parse(r.stdout));
    expect(doc.result.options.durationS).toBe(0.5);
    expect(doc.result.figures.find((f) => f.label === 'harvests')?.value).toBe(5);
  });

  it('--kernel picks the variant that kernel behaves like (table entry needed)', async () => {
    const r = await cli(['run', 'fake-dirty', '--kernel', '5.4'], defs);
    expectUsageError(r, /no kernel-version table entry covers scenario fake-dirty/);
  });

  it('writes --report and --trace files', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kvmlab-run-'));
    const r = await cli(['run', 'fake-dirty', '--report', 'r.html', '--trace', 't.json'], defs, dir);
    expect(r.status).toBe(0);
    const html = readFileSync(join(dir, 'r.html'), 'utf8');
    expect(html).toContain('<svg');
    expect(html).toContain('Dirty pages per harvest');
    const trace = JSON.parse(readFileSync(join(dir, 't.json'), 'utf8')) as { traceEvents: { ph: string; name: string; args?: Record<string, unknown> }[] };
    expect(trace.traceEvents.some((e) => e.ph === 'M' && e.name === 'thread_name' && e.args?.name === 'vm0/vcpu0')).toBe(true);
    expect(trace.traceEvents.filter((e) => e.ph === 'X')).toHaveLength(20);
    expect(trace.traceEvents.filter((e) => e.ph === 'C')).toHaveLength(20);
  });

  it('a run that throws exits 1 with one line, no stack trace', async () => {
    const r = await cli(['run', 'broken'], defs);
    expect(r.status).toBe(1);
    expect(r.stderr).toBe('kvmlab: run failed: model exploded (an internal error; --debug prints the stack)\n');
  });
});

describe('usage errors: exit 2, one line + usage', () => {
  const cases: readonly [string, readonly string[], RegExp][] = [
    ['unknown scenario', ['run', 'nope'], /unknown scenario "nope" \(known: broken, fake-dirty\)/],
    ['bad variant', ['run', 'fake-dirty', '--variant', 'rfc'], /has no variant "rfc" \(variants: pre-fix, merged, or all\)/],
    ['bad arch for the scenario', ['run', 'fake-dirty', '--arch', 'arm64'], /does not run on arch "arm64"/],
    ['unknown arch', ['run', 'fake-dirty', '--arch', 'riscv'], /argument 'riscv' is invalid/],
    ['bad seed', ['run', 'fake-dirty', '--seed', 'x1'], /seed must be an integer/],
    ['negative seed', ['run', 'fake-dirty', '--seed', '-1'], /seed|unknown option/],
    ['bad number option', ['run', 'fake-dirty', '--pages', 'many'], /option --pages "many": must be a number/],
    ['number out of range', ['run', 'fake-dirty', '--pages', '65'], /option --pages "65": must be ≤ 64/],
    ['non-integer', ['run', 'fake-dirty', '--pages', '2.5'], /option --pages "2.5": must be an integer/],
    ['bad enum', ['run', 'fake-dirty', '--pattern', 'zigzag'], /option --pattern "zigzag": must be one of seq, random/],
    ['bad duration', ['run', 'fake-dirty', '--duration', 'soon'], /--duration "soon": must be a number/],
    ['duration twice', ['run', 'fake-dirty', '--duration', '1s', '--duration-s', '2'], /not both/],
    ['unknown option', ['run', 'fake-dirty', '--frobnicate'], /unknown option '--frobnicate'/],
    ['missing scenario', ['run'], /missing required argument 'scenario'/],
    ['unknown command', ['launch'], /unknown command 'launch'/],
    ['variant and kernel', ['run', 'fake-dirty', '--variant', 'merged', '--kernel', '5.5'], /--variant or --kernel/],
    ['bad kernel version', ['affected', '--kernel', 'five'], /kernel version must look like/],
    ['affected, bad backport', ['affected', '--kernel', '5.4', '--backports', 'xyz'], /backport "xyz" is not a commit id/],
    ['affected, older than the timeline asked to run', ['run', 'fake-dirty', '--kernel', '5.99x!'], /kernel version/],
    ['caps without --arch', ['caps'], /required option '--arch <arch>'/],
    ['caps unknown plugin', ['caps', '--arch', 'x86_64', '--plugins', 'warp-drive'], /unknown plugin "warp-drive"/],
    ['excess argument', ['list', 'extra'], /too many arguments/],
    ['bad demo seed', ['demo', '--seed', '1.5'], /seed must be an integer/],
  ];
  for (const [name, args, pattern] of cases) {
    it(`${name}: kvmlab ${args.join(' ')}`, async () => {
      expectUsageError(await cli(args, defs), pattern);
    });
  }
});

describe('kvmlab demo / list (in-process, fake scenarios)', () => {
  it('demo runs every variant, writes report.html + demo.json, records a failed run and exits 1', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kvmlab-demo-'));
    const r = await cli(['demo', '--out', 'out', '--seed', '3'], defs, dir);
    expect(r.status).toBe(1); // the broken scenario failed
    expect(r.stdout).toMatch(/fake-dirty\s+x86_64\s+pre-fix\s+bug-reproduced\s+pages lost: \d+/);
    expect(r.stdout).toMatch(/fake-dirty\s+x86_64\s+merged\s+ok\s+pages lost: 0/);
    expect(r.stdout).toMatch(/broken\s+arm64\s+merged\s+error\s+model exploded/);
    const doc = demoOutputJson.parse(JSON.parse(readFileSync(join(dir, 'out', 'demo.json'), 'utf8')));
    expect(doc.results.map((x) => x.variant)).toEqual(['pre-fix', 'merged']);
    expect(doc.errors).toEqual([{ scenario: 'broken', arch: 'arm64', variant: 'merged', message: 'model exploded' }]);
    const html = readFileSync(join(dir, 'out', 'report.html'), 'utf8');
    // the key figure per variant, then the series with both variants on one chart
    expect(html.match(/<figure class="chart"/g)).toHaveLength(2);
    expect(html).toContain('pages lost per variant — fake-dirty (x86_64)');
    expect(html).toContain('pre-fix: harvested');
  });

  it('list shows names, variants, flags; --json validates', async () => {
    const r = await cli(['list'], defs);
    expect(r.stdout).toContain('fake-dirty — test scenario');
    expect(r.stdout).toContain('variants: pre-fix, merged (default)');
    expect(r.stdout).toContain('--duration <d>'); // the scenario's --duration-s is a hidden alias of run's --duration
    expect(r.stdout).not.toContain('--duration-s');
    expect(r.stdout).toContain('--verbose / --no-verbose');
    const j = await cli(['list', '--json'], defs);
    expect(cliOutputJson.parse(JSON.parse(j.stdout)).kind).toBe('list');
  });

  it('run <scenario> --help lists the scenario options', async () => {
    const r = await cli(['run', 'fake-dirty', '--help'], defs);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('--pages <n>');
    expect(r.stdout).toContain('pages in the slot (integer; default 8; 1..64)');
  });
});

describe('--help for every command (in-process)', () => {
  for (const cmd of [[], ['list'], ['run'], ['run', 'fake-dirty'], ['demo'], ['caps'], ['affected'], ['conform'], ['schema']]) {
    it(`kvmlab ${[...cmd, '--help'].join(' ')} exits 0 with its usage on stdout`, async () => {
      const r = await cli([...cmd, '--help'], defs);
      expect(r.status).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`^Usage: kvmlab${cmd[0] ? ` ${cmd[0]}` : ''} `));
      expect(r.stderr).toBe('');
    });
  }
  it('kvmlab with no command prints help on stderr and exits 2', async () => {
    const r = await cli([], defs);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^Usage: kvmlab /);
  });
});

describe('kvmlab schema', () => {
  it('prints a JSON Schema whose run document requires schemaVersion 1', async () => {
    const r = await cli(['schema', 'run'], defs);
    expect(r.status).toBe(0);
    const s = JSON.parse(r.stdout) as { $schema: string; properties: Record<string, { const?: unknown }>; required: string[] };
    expect(s.$schema).toContain('2020-12');
    expect(s.properties.schemaVersion).toMatchObject({ const: 1 });
    expect(s.required).toEqual(expect.arrayContaining(['schemaVersion', 'kind', 'result']));
    expectUsageError(await cli(['schema', 'nope'], defs), /value 'nope' is invalid for argument 'kind'/);
  });
});
