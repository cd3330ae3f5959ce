/**
 * A user's kvmlab.config.ts (test/fixtures/user-config) adds a one-file plugin and scenario;
 * the built CLI, run from that folder, lists, runs, composes and reports them like the
 * installed ones, and maps the scenario's own errors onto the CLI's exit statuses.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { expectUsageError, PKG_DIR, spawnCli } from './helpers.js';

const FIXTURE = join(PKG_DIR, 'test', 'fixtures', 'user-config');

beforeAll(() => {
  const err = inject('cliBuildError');
  if (err !== '') throw new Error(err);
});

describe('kvmlab.config.ts: the user\'s plugin and scenario', () => {
  it('list shows the config scenario next to the installed ones', () => {
    const r = spawnCli(['list'], FIXTURE);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^hello-hcall — a guest makes the hello hypercall/m);
    expect(r.stdout).toMatch(/arch x86_64 \(kvmlab\.config\.ts\); variants: pre-fix, merged \(default\)/);
    expect(r.stdout).toMatch(/^nvmx-hlt-cr3 — /m);
  });

  it('run: the merged variant answers 42, pre-fix reproduces the missing handler (-KVM_ENOSYS)', () => {
    const ok = JSON.parse(spawnCli(['run', 'hello-hcall', '--json'], FIXTURE).stdout) as { result: { verdict: string; headline: { value: number }; package: string } };
    expect(ok.result).toMatchObject({ verdict: 'ok', headline: { value: 42 }, package: 'kvmlab.config.ts' });
    const bug = spawnCli(['run', 'hello-hcall', '--variant', 'pre-fix', '--expect', 'bug'], FIXTURE);
    expect(bug.status, bug.stderr).toBe(0);
    expect(bug.stdout).toMatch(/answered -1000 \(no handler\)/); // KVM_ENOSYS = 1000 (include/uapi/linux/kvm_para.h)
  });

  it('caps composes the config plugin: its capability and hypercall, with it as the owner', () => {
    const r = JSON.parse(spawnCli(['caps', '--arch', 'x86_64', '--plugins', 'hello-hcall', '--json'], FIXTURE).stdout) as {
      plugins: string[]; capabilities: { cap: number; system: number; owner: string | null }[]; hypercalls: { id: string; owner: string }[];
    };
    expect(r.plugins).toEqual(['hello-hcall']);
    expect(r.capabilities.find((c) => c.cap === 9001)).toMatchObject({ system: 1, owner: 'hello-hcall' });
    expect(r.hypercalls).toContainEqual(expect.objectContaining({ id: String(0x4b4c), owner: 'hello-hcall' }));
  });

  it('--report of a config scenario is a report like any other', () => {
    const out = join(mkdtempSync(join(tmpdir(), 'kvmlab-cfg-')), 'r.html');
    const r = spawnCli(['run', 'hello-hcall', '--report', out], FIXTURE);
    expect(r.status, r.stderr).toBe(0);
    const html = readFileSync(out, 'utf8');
    expect(html).toContain('hello-hcall');
    expect(html).toContain('all 3 hello hypercalls answered 42');
  });

  it('demo runs the config scenario too (both variants) and puts it in demo.json and the report', () => {
    const out = mkdtempSync(join(tmpdir(), 'kvmlab-cfg-demo-'));
    const r = spawnCli(['demo', '--json', '--out', out], FIXTURE);
    expect(r.status, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout) as { results: { scenario: string; variant: string; verdict: string }[] };
    expect(doc.results.filter((x) => x.scenario === 'hello-hcall').map((x) => `${x.variant}:${x.verdict}`)).toEqual(['pre-fix:bug-reproduced', 'merged:ok']);
    expect(readFileSync(join(out, 'report.html'), 'utf8')).toContain('hello-hcall');
  }, 240_000);

  it('a ScenarioOptionError thrown by the scenario is a usage error (exit 2, one line)', () => {
    expectUsageError(spawnCli(['run', 'hello-hcall', '--calls', '7'], FIXTURE), /^kvmlab: option --calls 7: 7 calls is unlucky; pick another count \(scenario hello-hcall\)$/);
  });

  it('an Error thrown by the model is an internal failure: exit 1, one line; --debug adds the stack', () => {
    const r = spawnCli(['run', 'hello-hcall', '--explode'], FIXTURE);
    expect(r.status).toBe(1);
    expect(r.stderr).toBe('kvmlab: run failed: the model exploded (an internal error; --debug prints the stack)\n');
    const d = spawnCli(['run', 'hello-hcall', '--explode', '--debug'], FIXTURE);
    expect(d.status).toBe(1);
    expect(d.stderr).toMatch(/^kvmlab: run failed: the model exploded\nError: the model exploded\n\s+at /);
  });

  it('--no-config leaves it out; --config names another file', () => {
    expect(spawnCli(['list', '--no-config'], FIXTURE).stdout).not.toContain('hello-hcall');
    expect(spawnCli(['--config', join(FIXTURE, 'kvmlab.config.ts'), 'list']).stdout).toContain('hello-hcall');
  });

  it('a config with a mistake is one usage line naming the file and the field', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kvmlab-badcfg-'));
    writeFileSync(join(dir, 'kvmlab.config.mjs'), 'export default { scenarios: [{ name: "Bad Name" }] };\n');
    expectUsageError(spawnCli(['list'], dir), /^kvmlab: kvmlab\.config\.mjs: scenarios\.0\.name must be kebab-case/);
    writeFileSync(join(dir, 'kvmlab.config.mjs'), 'export default { plugins: [{ name: "nvmx-cr3", arches: ["x86_64"], create: () => ({}) }] };\n');
    expectUsageError(spawnCli(['list'], dir), /plugin "nvmx-cr3" is already provided by @kvmlab\/nvmx-cr3/);
    expectUsageError(spawnCli(['--config', 'nope.ts', 'list'], dir), /--config nope\.ts: no such file/);
  });
});
