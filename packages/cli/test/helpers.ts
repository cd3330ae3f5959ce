/** Test helpers: run the CLI in-process with captured output, or spawn the built binary. */
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ScenarioDef } from '@kvmlab/hypervisor-core';
import { ScenarioCatalog } from '../src/catalog.js';
import { runCli } from '../src/program.js';

export const PKG_DIR = join(dirname(fileURLToPath(import.meta.url)), '..');
export const BIN = join(PKG_DIR, 'bin', 'kvmlab.js');

export interface Captured {
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** In-process run; `width` is the output width (wide by default: most tests match table rows). */
export async function cli(args: readonly string[], defs: readonly ScenarioDef[], cwd = PKG_DIR, width = 1000): Promise<Captured> {
  let stdout = '';
  let stderr = '';
  const status = await runCli(args, {
    catalog: new ScenarioCatalog(defs),
    io: { out: (s) => void (stdout += s), err: (s) => void (stderr += s), cwd, width },
  });
  return { status, stdout, stderr };
}

/**
 * `node bin/kvmlab.js …` as a user runs it (stderr is a pipe, so no progress bar). COLUMNS is
 * wide unless `env` says otherwise (most tests match table rows; width tests unset it).
 */
export function spawnCli(args: readonly string[], cwd = PKG_DIR, env: Readonly<Record<string, string | undefined>> = {}): Captured {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd, encoding: 'utf8', timeout: 60_000, env: { ...process.env, NO_COLOR: '1', COLUMNS: '1000', ...env } });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** A usage error: exit 2, stderr = one message line + one usage line, nothing on stdout. */
export function expectUsageError(r: Captured, pattern: RegExp): void {
  const lines = r.stderr.trimEnd().split('\n');
  if (r.status !== 2) throw new Error(`expected exit 2, got ${r.status}: ${r.stderr}`);
  if (lines.length !== 2) throw new Error(`expected 2 stderr lines, got ${lines.length}: ${r.stderr}`);
  if (!pattern.test(lines[0]!)) throw new Error(`first line ${JSON.stringify(lines[0])} does not match ${pattern}`);
  if (!/^usage: kvmlab/.test(lines[1]!)) throw new Error(`second line is not a usage line: ${lines[1]}`);
  if (/\bat .*\(.*:\d+:\d+\)/.test(r.stderr)) throw new Error('stack trace on stderr');
  if (r.stdout !== '') throw new Error(`unexpected stdout: ${r.stdout}`);
}
