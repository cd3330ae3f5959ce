/**
 * The `kvmlab` command line (commander). runCli() parses, runs one command and returns the
 * exit status: 0 (also when a scenario reproduces a bug), 1 when a run failed (an exception
 * or a 'fail' verdict), 2 for a usage error — one line naming the problem, then the usage.
 */
import { createRequire } from 'node:module';
import { Command, CommanderError } from 'commander';
import { ScenarioCatalog } from './catalog.js';
import { registerAffected } from './commands/affected.js';
import { registerCaps } from './commands/caps.js';
import { registerConform } from './commands/conform.js';
import { registerDemo } from './commands/demo.js';
import { registerList } from './commands/list.js';
import { registerPlayground } from './commands/playground.js';
import { registerRun } from './commands/run.js';
import { registerSchema } from './commands/schema.js';
import { registerSweep } from './commands/sweep.js';
import { usageLine, type CliContext, type CliIo } from './context.js';
import { EXIT_FAILED, EXIT_OK, EXIT_USAGE, UsageError } from './errors.js';

export const KVMLAB_VERSION: string = (createRequire(import.meta.url)('../package.json') as { version: string }).version;

export interface RunCliOptions {
  readonly catalog?: ScenarioCatalog;
  readonly io?: CliIo;
}

export const processIo = (): CliIo => ({
  out: (s) => void process.stdout.write(s),
  err: (s) => void process.stderr.write(s),
  progressStream: process.stderr,
  cwd: process.cwd(),
});

const oneLine = (s: string): string => s.trim().replace(/^error: /, '').split('\n')[0]!;

/** Runs `kvmlab <args…>` (args without node and the script path); resolves to the exit status. */
export async function runCli(args: readonly string[], opts: RunCliOptions = {}): Promise<number> {
  const io = opts.io ?? processIo();
  // The feature packages load only when needed, so a caller with its own catalog needs none.
  // --version, --help, caps and affected (without --run) never load them.
  const first = args.find((a) => !a.startsWith('-'));
  const needsScenarios = first === 'list' || first === 'run' || first === 'demo' || (first === 'affected' && args.includes('--run'));
  const catalog = opts.catalog ?? (needsScenarios ? (await import('./scenarios.js')).defaultCatalog() : new ScenarioCatalog([]));
  const ctx: CliContext = { io, catalog, version: KVMLAB_VERSION, status: EXIT_OK };
  let failed: { readonly cmd: Command; readonly message: string } | undefined;
  let active: Command | undefined;
  const wire = (cmd: Command): Command =>
    cmd.exitOverride().configureOutput({
      writeOut: io.out,
      writeErr: io.err,
      outputError: (message) => {
        failed = { cmd, message };
      },
    });
  const program = wire(new Command('kvmlab'))
    .description('Run the kvmlab model of four KVM patch series (Sept 2019): scenarios, reports, traces')
    .version(KVMLAB_VERSION, '-V, --version', 'print the version')
    .showSuggestionAfterError(true)
    .addHelpText('after', '\nStart with: kvmlab demo   (runs everything, writes kvmlab-out/report.html)');
  registerList(program, ctx);
  registerRun(program, ctx, args);
  registerDemo(program, ctx);
  registerCaps(program, ctx);
  registerAffected(program, ctx);
  registerConform(program, ctx);
  registerSchema(program, ctx);
  registerPlayground(program, ctx);
  registerSweep(program, ctx);
  for (const c of program.commands) wire(c);
  program.hook('preAction', (_root, cmd) => {
    active = cmd;
  });
  try {
    await program.parseAsync([...args], { from: 'user' });
    return ctx.status;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version') return EXIT_OK;
      if (e.code === 'commander.help') return e.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
      const cmd = failed?.cmd ?? program;
      io.err(`kvmlab: ${oneLine(failed?.message ?? e.message)}\n${usageLine(cmd)}\n`);
      return EXIT_USAGE;
    }
    if (e instanceof UsageError) {
      io.err(`kvmlab: ${oneLine(e.message)}\n${usageLine(active ?? program)}\n`);
      return EXIT_USAGE;
    }
    const what = active !== undefined ? `${active.name()} failed` : 'failed';
    io.err(`kvmlab: ${what}: ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}\n`);
    if (process.env.KVMLAB_DEBUG && e instanceof Error && e.stack) io.err(`${e.stack}\n`);
    return EXIT_FAILED;
  }
}
