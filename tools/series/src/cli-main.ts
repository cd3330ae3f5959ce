// The kvmlab-series command line. Usage mistakes exit 2 with one line saying what is wrong
// and the usage of the command; a failed check or an unreadable input exits 1.
import { Command, CommanderError } from 'commander';
import { resolve } from 'node:path';
import { DEFAULT_MBOX, findRepoRoot } from './check/workspace.js';
import { changelogCommand } from './commands/changelog-command.js';
import { checkCommand } from './commands/check-command.js';
import { importCommand } from './commands/import-command.js';
import type { Io } from './commands/io.js';
import { syncCommand } from './commands/sync-command.js';

export const USAGE_EXIT = 2;

interface RootOpts {
  readonly root?: string;
  readonly mbox?: string;
}

function where(io: Io, opts: RootOpts): { root: string; mbox: string } {
  const root = opts.root !== undefined ? resolve(io.cwd, opts.root) : (findRepoRoot(io.cwd) ?? io.cwd);
  const mbox = opts.mbox !== undefined ? resolve(io.cwd, opts.mbox) : resolve(root, DEFAULT_MBOX);
  return { root, mbox };
}

/** Runs the CLI on `argv` (without node and script) and resolves to the exit status. */
export async function main(argv: readonly string[], io: Io): Promise<number> {
  let status = 0;
  let failing: Command | undefined;
  const program = new Command('kvmlab-series');
  const quiet = (cmd: Command): Command =>
    cmd
      .exitOverride()
      .configureOutput({
        writeOut: (s) => io.out(s.replace(/\n$/, '')),
        writeErr: (s) => io.err(s.replace(/\n$/, '')),
        outputError: () => {
          failing = cmd;
        },
      });
  quiet(program)
    .description('Import Linux patch series from a patchwork/mbox export into kvmlab package metadata, and check it')
    .showSuggestionAfterError(true);
  const rootOpt = '--root <dir>';
  const rootHelp = 'repo root (default: the nearest folder up whose package.json has workspaces)';
  const mboxHelp = `mbox to read (default: <root>/${DEFAULT_MBOX})`;
  quiet(program.command('import'))
    .description('write <out>/<series>/series.json for every cover letter in an mbox')
    .argument('<mbox>', 'mbox or patchwork export to read')
    .option('--out <dir>', 'output folder', 'series-import')
    .action(async (mbox: string, o: { out: string }) => {
      status = await importCommand(resolve(io.cwd, mbox), resolve(io.cwd, o.out), io);
    });
  quiet(program.command('check'))
    .description("verify every feature package's series.json against the mbox and that every patch is modelled")
    .option('--mbox <path>', mboxHelp)
    .option(rootOpt, rootHelp)
    .option('--json', 'print the report as JSON')
    .action(async (o: RootOpts & { json?: boolean }) => {
      const w = where(io, o);
      status = await checkCommand(w.root, w.mbox, o.json === true, io);
    });
  quiet(program.command('sync'))
    .description("refresh the series records of every package's series.json from the mbox, keeping `models`")
    .option('--mbox <path>', mboxHelp)
    .option(rootOpt, rootHelp)
    .action(async (o: RootOpts) => {
      const w = where(io, o);
      status = await syncCommand(w.root, w.mbox, io);
    });
  quiet(program.command('changelog'))
    .description('write the "## Series history" block at the top of each feature package\'s CHANGELOG.md')
    .option(rootOpt, rootHelp)
    .option('--check', 'only verify that every block is up to date (exit 1 if not)')
    .action((o: RootOpts & { check?: boolean }) => {
      status = changelogCommand(where(io, o).root, o.check === true, io);
    });
  if (argv.length === 0) {
    io.err('kvmlab-series: missing command (import, check, sync or changelog)');
    io.err(`Usage: ${program.name()} ${program.usage()}`);
    return USAGE_EXIT;
  }
  try {
    await program.parseAsync([...argv], { from: 'user' });
  } catch (e) {
    if (!(e instanceof CommanderError)) throw e;
    if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version') return 0;
    const cmd = failing ?? program;
    const name = cmd === program ? program.name() : `${program.name()} ${cmd.name()}`;
    const message = e.code === 'commander.help' ? 'missing command' : e.message.replace(/^error: /, '');
    io.err(`kvmlab-series: ${message.split('\n')[0] ?? message}`);
    io.err(`Usage: ${name} ${cmd.usage()}`);
    return USAGE_EXIT;
  }
  return status;
}
