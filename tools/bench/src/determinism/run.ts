/**
 * One determinism case through the built CLI, as a user runs it: `kvmlab run … --seed 0 --json`.
 * The fixture is the `result` object pretty-printed (the package version around it is left out:
 * a release bumps it without changing any figure). A trace case writes `--trace` to a temporary
 * file and keeps a fingerprint: event count, events per name and a SHA-256 of the bytes.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN, ROOT, type DeterminismCase } from './cases.js';

function kvmlab(args: readonly string[]): string {
  const r = spawnSync(process.execPath, [BIN, 'run', ...args, '--seed', '0', '--json'], {
    cwd: ROOT, encoding: 'utf8', maxBuffer: 256 << 20, env: { ...process.env, NO_COLOR: '1' },
  });
  // Exit 1 is a scenario whose verdict is "fail": still a result to compare.
  if (r.status !== 0 && r.status !== 1) throw new Error(`kvmlab run ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return r.stdout;
}

export function resultText(c: DeterminismCase): string {
  const doc = JSON.parse(kvmlab(c.args)) as { result: unknown };
  return JSON.stringify(doc.result, null, 1) + '\n';
}

export function traceText(c: DeterminismCase): string {
  const dir = mkdtempSync(join(tmpdir(), 'kvmlab-det-trace-'));
  try {
    const file = join(dir, 'trace.json');
    kvmlab([...c.args, '--trace', file]);
    const bytes = readFileSync(file);
    const events = (JSON.parse(bytes.toString('utf8')) as { traceEvents: { name: string }[] }).traceEvents;
    const byName: Record<string, number> = {};
    for (const e of events) byName[e.name] = (byName[e.name] ?? 0) + 1;
    const sorted = Object.fromEntries(Object.entries(byName).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    return JSON.stringify({ events: events.length, sha256: createHash('sha256').update(bytes).digest('hex'), byName: sorted }, null, 1) + '\n';
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
