/**
 * The built `kvmlab` binary, spawned as a user runs it: every command, --help everywhere,
 * --json against the schema, byte-identical JSON for the same seed, usage errors (exit 2, one
 * line + usage), and the demo with every scenario the feature packages export.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { affectedOutputJson, capsOutputJson, conformOutputJson, demoOutputJson, listOutputJson, matrixOutputJson, runOutputJson } from '../src/json-output.js';
import { chartSpecs } from '../src/report/charts.js';
import { expectUsageError, PKG_DIR, spawnCli } from './helpers.js';

const pkgVersion = (JSON.parse(readFileSync(join(PKG_DIR, 'package.json'), 'utf8')) as { version: string }).version;
/** The scenarios DESIGN.md names, and which variant reproduces each bug. */
const BUGGY: Readonly<Record<string, string>> = { 'nvmx-hlt-cr3': 'pre-fix', 'nested-migration': 'pre-fix', 'vmx-dirty-log': 'pre-fix' };

let scenarios: ReturnType<typeof listOutputJson.parse>['scenarios'] = [];

beforeAll(() => {
  const err = inject('cliBuildError');
  if (err !== '') throw new Error(err);
  const r = spawnCli(['list', '--json']);
  scenarios = listOutputJson.parse(JSON.parse(r.stdout)).scenarios;
});

describe('kvmlab binary: version and help', () => {
  it('--version prints the package version', () => {
    const r = spawnCli(['--version']);
    expect(r).toMatchObject({ status: 0, stdout: `${pkgVersion}\n`, stderr: '' });
  });

  it('run --help exits 0 with usage on stdout (every command: cli-inprocess.test.ts)', () => {
    const r = spawnCli(['run', '--help']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^Usage: kvmlab run \[options\] <scenario>/);
    expect(r.stderr).toBe('');
  });
});

describe('kvmlab binary: list, caps, affected', () => {
  it('list names every exported scenario with its variants', () => {
    const r = spawnCli(['list']);
    expect(r.status).toBe(0);
    for (const s of scenarios) {
      expect(r.stdout).toContain(`${s.name} — ${s.description}`);
      for (const d of s.definitions) {
        // A scenario with variant axes shows the axes, not every cell's name.
        if (d.variantAxes !== undefined) expect(r.stdout).toContain(d.variantAxes.map((a) => `${a.name}: ${a.values.join('|')}`).join(' × '));
        else expect(r.stdout).toContain(d.variants.join(', ').replace(d.defaultVariant, `${d.defaultVariant} (default)`));
      }
    }
  });

  for (const arch of ['arm64', 'x86_64'] as const) {
    it(`caps --arch ${arch}: KVM_CHECK_EXTENSION table and guest discovery; --json validates`, () => {
      const t = spawnCli(['caps', '--arch', arch]);
      expect(t.status, t.stderr).toBe(0);
      expect(t.stdout).toContain('KVM_CHECK_EXTENSION');
      expect(t.stdout).toContain('Guest-visible discovery');
      const none = capsOutputJson.parse(JSON.parse(spawnCli(['caps', '--arch', arch, '--plugins', 'none', '--json']).stdout));
      expect(none.plugins).toEqual([]);
      expect(none.capabilities.find((c) => c.name === 'KVM_CAP_USER_MEMORY')?.system).toBe(1);
      expect(none.capabilities.every((c) => c.owner === null || c.owner === 'hypervisor-core')).toBe(true);
    });
  }

  it('conform (recorded kernel answers): every step matches or differs by a documented era; --json validates', () => {
    const t = spawnCli(['conform']);
    expect(t.status, t.stderr).toBe(0);
    expect(t.stdout).toMatch(/^TAP version 14\n1\.\.\d+\n/);
    expect(t.stdout).toMatch(/# \d+ steps: \d+ match, \d+ known era differences, 0 mismatches, \d+ skipped/);
    const doc = conformOutputJson.parse(JSON.parse(spawnCli(['conform', '--json', '--plugins', 'kvm-mmu-pml']).stdout));
    expect(doc).toMatchObject({ source: 'fixture', plugins: ['kvm-mmu-pml'], counts: { mismatch: 0 } });
  });

  it('affected --kernel 5.4: the CR3 bug, not the PML one; --json validates', () => {
    const t = spawnCli(['affected', '--kernel', '5.4']);
    expect(t.status).toBe(0);
    expect(t.stdout).toMatch(/nVMX GUEST_CR3 after HLT\s+Vulnerable\s+pre-fix\s+the 5\.4 backport came in 5\.4\.3/);
    expect(t.stdout).toMatch(/nested PML dirty logging\s+Not affected\s+merged\s+fixed in mainline 5\.4/);
    const doc = affectedOutputJson.parse(JSON.parse(spawnCli(['affected', '--kernel', '5.12', '--arch', 'arm64', '--json']).stdout));
    expect(doc.rows).toEqual([expect.objectContaining({ id: 'ptp-kvm-arm64', status: 'absent', variant: 'none' })]);
  });
});

describe('kvmlab binary: run', () => {
  it('run <scenario> --json on every arch matches the schema and is byte-identical to the demo run of the same seed', () => {
    const demo = demoOutputJson.parse(JSON.parse(readFileSync(join(inject('demo').dir, 'demo.json'), 'utf8')));
    for (const s of scenarios) {
      for (const d of s.definitions) {
        for (const arch of d.arches) {
          const r = spawnCli(['run', s.name, '--arch', arch, '--json']);
          expect(r.status, `${s.name} ${arch}: ${r.stderr}`).toBe(0);
          const doc = runOutputJson.parse(JSON.parse(r.stdout));
          expect(doc.result).toMatchObject({ scenario: s.name, arch, variant: d.defaultVariant, seed: 0 });
          const same = demo.results.find((x) => x.scenario === s.name && x.arch === arch && x.variant === d.defaultVariant);
          expect(JSON.stringify(doc.result), `${s.name} ${arch}`).toBe(JSON.stringify(same));
        }
      }
    }
  });

  it('run --variant all: one matrix document whose results are the demo\'s, byte for byte, in variant order', () => {
    const demo = demoOutputJson.parse(JSON.parse(readFileSync(join(inject('demo').dir, 'demo.json'), 'utf8')));
    const s = scenarios.find((x) => x.name === 'nvmx-hlt-cr3');
    if (s === undefined) return;
    const r = spawnCli(['run', s.name, '--variant', 'all', '--json']);
    expect(r.status, r.stderr).toBe(0);
    const doc = matrixOutputJson.parse(JSON.parse(r.stdout));
    const d = s.definitions[0]!;
    expect(doc.cells.map((row) => row.map((c) => c.variant))).toEqual(d.variants.map((v) => [v]));
    const same = demo.results.filter((x) => x.scenario === s.name && x.arch === d.arches[0]);
    expect(JSON.stringify(doc.results)).toBe(JSON.stringify(same));
  });

  it('--kernel picks pre-fix for a kernel that lacks the fix and merged for one that has it', () => {
    for (const [name, kernel, variant] of [['vmx-dirty-log', '5.3', 'pre-fix'], ['nvmx-hlt-cr3', '5.5', 'merged']] as const) {
      if (!scenarios.some((s) => s.name === name)) continue;
      const r = spawnCli(['run', name, '--kernel', kernel, '--json']);
      expect(r.status, r.stderr).toBe(0);
      expect(runOutputJson.parse(JSON.parse(r.stdout)).result.variant).toBe(variant);
    }
  });

  it('--trace writes Chrome trace-event JSON with a named track per vCPU', () => {
    const s = scenarios.find((x) => x.name === 'nvmx-hlt-cr3') ?? scenarios[0];
    if (s === undefined) return;
    const dir = mkdtempSync(join(tmpdir(), 'kvmlab-trace-'));
    const r = spawnCli(['run', s.name, '--trace', 'trace.json'], dir);
    expect(r.status, r.stderr).toBe(0);
    const t = JSON.parse(readFileSync(join(dir, 'trace.json'), 'utf8')) as { traceEvents: { ph: string; name: string; ts?: number; args?: { name?: string } }[] };
    const threads = t.traceEvents.filter((e) => e.ph === 'M' && e.name === 'thread_name').map((e) => e.args?.name ?? '');
    expect(threads.some((n) => /vcpu\d/.test(n))).toBe(true);
    expect(t.traceEvents.filter((e) => e.ph !== 'M').every((e) => typeof e.ts === 'number' && Number.isFinite(e.ts))).toBe(true);
  });

  it('usage errors from the binary: exit 2, one line + usage', () => {
    expectUsageError(spawnCli(['run', 'no-such-scenario']), /unknown scenario "no-such-scenario"/);
    expectUsageError(spawnCli(['demo', '--bogus']), /unknown option '--bogus'/);
    const s = scenarios[0];
    if (s === undefined) return;
    expectUsageError(spawnCli(['run', s.name, '--variant', 'nope']), new RegExp(`${s.name} has no variant "nope"`));
  });
});

describe('kvmlab binary: demo', () => {
  it('runs every scenario in every variant in well under a minute, prints the summary table, writes demo.json (schema valid); pre-fix reproduces each bug', () => {
    const demo = inject('demo');
    expect(demo.status, demo.stderr).toBe(0);
    expect(demo.wallMs).toBeLessThan(45_000);
    expect(demo.stdout).toMatch(/^scenario\s+arch\s+variant\s+verdict\s+key figure\n/);
    const doc = demoOutputJson.parse(JSON.parse(readFileSync(join(demo.dir, 'demo.json'), 'utf8')));
    expect(doc.errors).toEqual([]);
    const expected = scenarios.flatMap((s) => s.definitions.flatMap((d) => d.arches.flatMap((a) => d.variants.map((v) => `${s.name}/${a}/${v}`))));
    expect(doc.results.map((r) => `${r.scenario}/${r.arch}/${r.variant}`)).toEqual(expected);
    for (const r of doc.results) {
      expect(demo.stdout).toContain(`${r.verdict}`);
      const buggy = BUGGY[r.scenario];
      if (buggy === undefined) continue;
      expect(r.verdict === 'bug-reproduced', `${r.scenario} ${r.variant}: ${r.summary}`).toBe(r.variant === buggy);
    }
    const html = readFileSync(join(demo.dir, 'report.html'), 'utf8');
    expect((html.match(/<figure class="chart"/g) ?? []).length).toBe(chartSpecs(doc.results).length);
  });
});
