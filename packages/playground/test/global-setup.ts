/**
 * Before the tests: build the app with Vite into a temporary folder (the tests never touch
 * app/), so the browser tests load what `kvmlab playground` would serve. A failed build is
 * reported by the tests that need it.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    app: { dir: string; buildError: string };
  }
}

export default function setup(project: TestProject): void {
  const pkg = join(dirname(fileURLToPath(import.meta.url)), '..');
  const dir = join(mkdtempSync(join(tmpdir(), 'kvmlab-playground-')), 'app');
  const vite = join(pkg, '..', '..', 'node_modules', 'vite', 'bin', 'vite.js');
  const b = spawnSync(process.execPath, [vite, 'build', '--logLevel', 'warn'], { cwd: pkg, encoding: 'utf8', env: { ...process.env, NODE_ENV: 'production', KVMLAB_PLAYGROUND_OUT: dir }, timeout: 120_000 });
  project.provide('app', { dir, buildError: b.status === 0 ? '' : `vite build failed (${String(b.status)}):\n${b.stdout}${b.stderr}` });
}
