/**
 * Before the tests: build the CLI (and, through project references, every package it imports)
 * so the binary tests spawn `node bin/kvmlab.js` against fresh dist/ output, then run
 * `kvmlab demo` once — the binary test checks its table and demo.json, the browser test
 * opens its report. A failed build does not stop the in-process tests; the binary tests then fail with
 * tsc's output.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    cliBuildError: string;
    demo: { dir: string; status: number; stdout: string; stderr: string; wallMs: number };
  }
}

export default function setup(project: TestProject): void {
  const pkg = join(dirname(fileURLToPath(import.meta.url)), '..');
  const tsc = join(pkg, '..', '..', 'node_modules', 'typescript', 'bin', 'tsc');
  const b = spawnSync(process.execPath, [tsc, '-b', join(pkg, 'tsconfig.lib.json')], { encoding: 'utf8' });
  project.provide('cliBuildError', b.status === 0 ? '' : `tsc -b packages/cli/tsconfig.lib.json failed:\n${b.stdout}${b.stderr}`);
  const dir = join(mkdtempSync(join(tmpdir(), 'kvmlab-demo-')), 'out');
  const t0 = performance.now();
  const d = b.status === 0 ? spawnSync(process.execPath, [join(pkg, 'bin', 'kvmlab.js'), 'demo', '--seed', '0', '--out', dir], { encoding: 'utf8', timeout: 120_000, env: { ...process.env, COLUMNS: '1000' } }) : undefined;
  project.provide('demo', { dir, status: d?.status ?? -1, stdout: d?.stdout ?? '', stderr: d?.stderr ?? '', wallMs: performance.now() - t0 });
}
