/**
 * The `kvmlab` command line (commander). runCli() parses, runs one command and returns the
 * exit status:
 * - 0: the command did what was asked (also when a scenario reproduces its bug, unless
 *   `run --expect` said otherwise);
 * - 1: a run failed (a 'fail' verdict, an `--expect` mismatch, or an internal error: one short
 *   line, the stack only with --debug);
 * - 2: a usage error — one line naming the value and the rule, then the usage line.
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
import { loadInstalled, NOTHING_INSTALLED, type Installed } from './host/installed.js';
import { guardStream } from './io/stdio.js';
import { outputWidth, wrapText } from './io/terminal.js';
import { userMistake } from './user-errors.js';

export const KVMLAB_VERSION: string = (createRequire(import.meta.url)('../package.json') as { version: string }).version;

export interface RunCliOptions {
  /** Scenarios to offer instead of the installed ones (tests, embedding). */
  readonly catalog?: ScenarioCatalog;
  /** What is hosted, instead of discovering it (tests). */
  readonly installed?: Installed;
  readonly io?: CliIo;
}

/** stdout / stderr of this process, guarded against a reader that went away (io/stdio.ts). */
export const processIo = (): CliIo => {
  const out = guardStream(process.stdout);
  const err = guardStream(process.stderr);
  return { out: out.write, err: err.write, progressStream: process.stderr, cwd: process.cwd(), width: outputWidth(process.stdout) };
};

const oneLine = (s: string): string => s.trim().replace(/^error: /, '').split('\n')[0]!;

/**
 * Commands whose work needs the hosted packages (and their --help); `affected` only with --run,
 * `sweep` (and `sweep merge`) unless --scenarios names the scenarios' own module.
 */
const HOSTING = new Set(['list', 'run', 'demo', 'caps', 'conform', 'sweep']);

const hosts = (command: string | undefined, args: readonly string[]): boolean => {
  if (command === 'affected') return args.includes('--run');
  if (command === 'sweep') return !args.some((a) => a === '--scenarios' || a.startsWith('--scenarios='));
  return command !== undefined && HOSTING.has(command);
};

/** Global flags that take a value, for the scan before parsing. */
function scanGlobal(args: readonly string[]): { command?: string; config?: string; noConfig: boolean; debug: boolean } {
  let command: string | undefined;
  let config: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--') break;
    if (a === '--config') config = args[++i];
    else if (a.startsWith('--config=')) config = a.slice('--config='.length);
    else if (command === undefined && !a.startsWith('-')) command = a;
  }
  return { ...(command !== undefined ? { command } : {}), ...(config !== undefined ? { config } : {}), noConfig: args.includes('--no-config'), debug: args.includes('--debug') };
}

/** `help`, `help <command> [args]` → the same with `--help`; an unknown topic is a usage error. */
function rewriteHelp(args: readonly string[], commands: readonly string[]): readonly string[] {
  // The first word that is not a flag or --config's value.
  const i = args.findIndex((a, j) => !a.startsWith('-') && args[j - 1] !== '--config');
  if (i < 0 || args[i] !== 'help') return args;
  const rest = args.slice(i + 1);
  const topic = rest.find((a) => !a.startsWith('-'));
  if (topic === undefined) return [...args.slice(0, i), '--help'];
  if (!commands.includes(topic)) throw new UsageError(`unknown command "${topic}" for help (commands: ${commands.join(', ')})`);
  return [...args.slice(0, i), ...rest, '--help'];
}

/** Runs `kvmlab <args…>` (args without node and the script path); resolves to the exit status. */
export async function runCli(argv: readonly string[], opts: RunCliOptions = {}): Promise<number> {
  const io = opts.io ?? processIo();
  const width = io.width ?? 80;
  const scan = scanGlobal(argv);
  const debug = scan.debug || (process.env.KVMLAB_DEBUG ?? '') !== '';
  let program: Command | undefined;
  let active: Command | undefined;
  let failed: { readonly cmd: Command; readonly message: string } | undefined;
  try {
    const wire = (cmd: Command): Command =>
      cmd.exitOverride().configureOutput({
        writeOut: io.out,
        writeErr: io.err,
        getOutHelpWidth: () => width,
        getErrHelpWidth: () => width,
        outputError: (message) => {
          failed = { cmd, message };
        },
      });
    program = wire(new Command('kvmlab'))
      .usage('[options] [command]')
      .description('Run the kvmlab model of four KVM patch series (Sept 2019): scenarios, reports, traces')
      .version(KVMLAB_VERSION, '-V, --version', 'print the version')
      .option('--config <file>', 'load plugins and scenarios from this config file (default: ./kvmlab.config.ts, .mts, .js or .mjs if present)')
      .option('--no-config', 'do not load a config file')
      .option('--debug', 'on an internal error, print the stack trace too')
      .showSuggestionAfterError(true)
      .addHelpText('after', `\n${wrapText('Exit status: 0 done (also when a scenario reproduces its bug), 1 a run failed, 2 a usage error.', width).join('\n')}\nStart with: kvmlab demo   (runs everything, writes kvmlab-out/report.html)`);
    const names = ['list', 'run', 'demo', 'caps', 'affected', 'conform', 'schema', 'playground', 'sweep'];
    const args = rewriteHelp(argv, names);
    const command = scanGlobal(args).command;
    // The feature packages load only when a command needs them: --version, schema and the
    // top-level help never import them.
    const needsHost = hosts(command, args);
    const installed = opts.installed ?? (needsHost ? await loadInstalled({ cwd: io.cwd, ...(scan.config !== undefined ? { configFile: scan.config } : {}), useConfig: !scan.noConfig }) : NOTHING_INSTALLED);
    const catalog = opts.catalog ?? new ScenarioCatalog(installed.scenarios);
    const ctx: CliContext = { io, catalog, installed, hostedCatalog: opts.catalog === undefined, version: KVMLAB_VERSION, width, status: EXIT_OK };
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
    await program.parseAsync([...args], { from: 'user' });
    return ctx.status;
  } catch (e) {
    const root = program;
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version') return EXIT_OK;
      if (e.code === 'commander.help') return e.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
      const cmd = failed?.cmd ?? root;
      io.err(`kvmlab: ${oneLine(failed?.message ?? e.message)}\n${cmd !== undefined ? `${usageLine(cmd)}\n` : ''}`);
      return EXIT_USAGE;
    }
    const mistake = userMistake(e);
    if (mistake !== undefined) {
      const cmd = active ?? root;
      io.err(`kvmlab: ${oneLine(mistake)}\n${cmd !== undefined ? `${usageLine(cmd)}\n` : ''}`);
      return EXIT_USAGE;
    }
    const what = active !== undefined ? `${active.name()} failed` : 'failed';
    const text = e instanceof Error ? `${e.name !== 'Error' ? `${e.name}: ` : ''}${oneLine(e.message)}` : String(e);
    io.err(`kvmlab: ${what}: ${text}${debug ? '' : ' (an internal error; --debug prints the stack)'}\n`);
    if (debug && e instanceof Error && e.stack !== undefined) io.err(`${e.stack}\n`);
    return EXIT_FAILED;
  }
}
