/** What every command needs: where output goes, the scenarios and plugins hosted, the version. */
import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import type { ScenarioCatalog } from './catalog.js';
import type { Installed } from './host/installed.js';

export interface CliIo {
  readonly out: (s: string) => void;
  readonly err: (s: string) => void;
  /** The stream a progress bar may draw on (only if it is a TTY). */
  readonly progressStream?: NodeJS.WriteStream;
  readonly cwd: string;
  /** Columns the text output may use (io/terminal.ts; default 80). */
  readonly width?: number;
}

export interface CliContext {
  readonly io: CliIo;
  readonly catalog: ScenarioCatalog;
  /** false: `catalog` was handed to runCli (tests, embedding), not built from `installed`. */
  readonly hostedCatalog: boolean;
  /** The installed feature packages and the user config (host/installed.ts). */
  readonly installed: Installed;
  readonly version: string;
  /** Columns for text output. */
  readonly width: number;
  /** Set by a command's action: the exit status (0 unless the run itself failed). */
  status: number;
}

export const ARCHES = ['arm64', 'x86_64'] as const;

/** `--seed n`: an integer in 0..2^32-1 (the PRNG's seed). */
export function parseSeed(text: string): number {
  if (!/^\d+$/.test(text.trim()) || Number(text) > 0xffff_ffff) {
    throw new InvalidArgumentError(`"${text}": the seed must be an integer from 0 to 4294967295.`);
  }
  return Number(text);
}

export function usageLine(cmd: Command): string {
  const names: string[] = [];
  for (let c: Command | null = cmd; c !== null; c = c.parent) names.unshift(c.name());
  return `usage: ${names.join(' ')} ${cmd.usage()}  (see '${names.join(' ')} --help')`;
}
