/**
 * Builds the CLI (and, through project references, every package it imports) once before the
 * tests, so the binary tests spawn `node bin/kvmlab.js` against fresh dist/ output. A failed
 * build does not stop the in-process tests; the binary tests then fail with tsc's output.
 */
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    cliBuildError: string;
  }
}

export default function setup(project: TestProject): void {
  const pkg = join(dirname(fileURLToPath(import.meta.url)), '..');
  const tsc = join(pkg, '..', '..', 'node_modules', 'typescript', 'bin', 'tsc');
  const r = spawnSync(process.execPath, [tsc, '-b', join(pkg, 'tsconfig.lib.json')], { encoding: 'utf8' });
  project.provide('cliBuildError', r.status === 0 ? '' : `tsc -b packages/cli/tsconfig.lib.json failed:\n${r.stdout}${r.stderr}`);
}
