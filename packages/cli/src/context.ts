/** What every command needs: where output goes, the scenarios, the version. */
import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import type { ScenarioCatalog } from './catalog.js';

export interface CliIo {
  readonly out: (s: string) => void;
  readonly err: (s: string) => void;
  /** The stream a progress bar may draw on (only if it is a TTY). */
  readonly progressStream?: NodeJS.WriteStream;
  readonly cwd: string;
}

export interface CliContext {
  readonly io: CliIo;
  readonly catalog: ScenarioCatalog;
  readonly version: string;
  /** Set by a command's action: the exit status (0 unless the run itself failed). */
  status: number;
}

export const ARCHES = ['arm64', 'x86_64'] as const;

/** `--seed n`: an integer in 0..2^32-1 (the PRNG's seed). */
export function parseSeed(text: string): number {
  if (!/^\d+$/.test(text.trim()) || Number(text) > 0xffff_ffff) {
    throw new InvalidArgumentError('seed must be an integer from 0 to 4294967295.');
  }
  return Number(text);
}

export function usageLine(cmd: Command): string {
  const names: string[] = [];
  for (let c: Command | null = cmd; c !== null; c = c.parent) names.unshift(c.name());
  return `usage: ${names.join(' ')} ${cmd.usage()}  (see '${names.join(' ')} --help')`;
}
