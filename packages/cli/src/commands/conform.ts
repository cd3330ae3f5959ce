/**
 * `kvmlab conform`: differential conformance of the model against the Linux KVM ABI, through
 * @kvmlab/linux-kvm's runConformance() — the kernel's recorded answers by default, the running
 * kernel's /dev/kvm with --live (saved to a file of the user's choice with --record <file>, read
 * back with --recording <file>). Prints TAP 14 (tap.ts), one line per step; exits 0 / 1 like kselftest.
 */
import { accessSync, constants, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { Command } from 'commander';
import type { Plugin } from '@kvmlab/hypervisor-core';
import type * as LinuxKvm from '@kvmlab/linux-kvm';
import type * as PtpKvmX86 from '@kvmlab/ptp-kvm-x86';
import type { CliContext } from '../context.js';
import { EXIT_FAILED, UsageError } from '../errors.js';
import { providerOf } from '../host/installed.js';

/** --record's file, checked before the kernel runs: its folder exists and is writable, and it is not a folder itself. */
function recordPath(cwd: string, given: string): string {
  const file = resolve(cwd, given);
  const dir = dirname(file);
  let isDir: boolean;
  try {
    isDir = statSync(dir).isDirectory();
    if (isDir) accessSync(dir, constants.W_OK);
  } catch {
    throw new UsageError(`--record ${given}: the folder ${dir} does not exist or is not writable`);
  }
  if (!isDir) throw new UsageError(`--record ${given}: ${dir} is not a folder`);
  let target: ReturnType<typeof statSync> | undefined;
  try {
    target = statSync(file);
  } catch {
    target = undefined;
  }
  if (target?.isDirectory() === true) throw new UsageError(`--record ${given}: is a folder; give a file name, e.g. ${given.replace(/\/$/, '')}/kernel.json`);
  return file;
}
import { SCHEMA_VERSION, stringifyJson } from '../json-output.js';

export function registerConform(program: Command, ctx: CliContext): void {
  program
    .command('conform')
    .description('compare the model with the Linux KVM ABI step by step (recorded kernel answers, or /dev/kvm with --live); TAP 14')
    .option('--live', 'run the scripts on this machine\'s /dev/kvm too (fails if it is not usable)')
    .option('--record <file.json>', 'save the live kernel\'s answers to this file (implies --live); its folder must exist')
    .option('--recording <file.json>', 'compare with this recording (one --record wrote) instead of the one shipped with @kvmlab/linux-kvm')
    .option('--plugins <list>', 'x86 plugins to install in the model, e.g. kvm-mmu-pml (default: none)')
    .option('--verbose', 'print the kernel\'s and the model\'s answers for every step, not only for failures')
    .option('--json', 'print the report as JSON (schemaVersion 1, kind "conform")')
    .action(async (opts: { live?: boolean; record?: string; recording?: string; plugins?: string; verbose?: boolean; json?: boolean }) => {
      if (opts.record !== undefined && opts.recording !== undefined) throw new UsageError('give --record (a new recording) or --recording (an old one), not both');
      const recordTo = opts.record === undefined ? undefined : recordPath(ctx.io.cwd, opts.record);
      // linux-kvm (it brings koffi, a native FFI module) and ptp-kvm-x86 are optional peers.
      const need = ['@kvmlab/linux-kvm', '@kvmlab/ptp-kvm-x86'].filter((p) => !ctx.installed.modules.has(p));
      if (need.length > 0) throw new UsageError(`conform needs ${need.join(' and ')}, which ${need.length > 1 ? 'are' : 'is'} not installed (see the @kvmlab/cli README, "Installing")`);
      const { readFixture, runConformance } = ctx.installed.modules.get('@kvmlab/linux-kvm') as typeof LinuxKvm;
      let fixture: ReturnType<typeof readFixture> | undefined;
      if (opts.recording !== undefined) {
        try {
          fixture = readFixture(resolve(ctx.io.cwd, opts.recording));
        } catch (e) {
          throw new UsageError(`--recording ${opts.recording}: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`);
        }
      }
      const { ptpKvmX86, ptpKvmX86Host } = ctx.installed.modules.get('@kvmlab/ptp-kvm-x86') as typeof PtpKvmX86;
      const { formatConformanceTap, tapExitStatus } = await import('../tap.js');
      const { selectPlugins } = await import('../caps-report.js');
      const factories = ctx.installed.plugins;
      // The conformance scripts run on x86_64: an arm64 plugin is refused here, with the rule.
      const names = opts.plugins === undefined ? [] : selectPlugins('x86_64', opts.plugins, factories, (n) => providerOf(ctx.installed, 'plugin', n)?.package);
      const plugins = (): Plugin[] => names.map((n) => factories.find((f) => f.name === n)!.create());
      // The kvmclock scripts' model: ptp-kvm-x86 following the recorded kernel's era and host.
      const kvmclock = {
        plugins: (k: { era: '5.4' | '6.18'; tscControl: boolean }) => [ptpKvmX86({ kernel: k.era, tscScaling: k.tscControl })],
        vmm: ptpKvmX86Host,
      };
      const report = runConformance({ live: opts.live === true, ...(recordTo !== undefined ? { recordTo } : {}), ...(fixture !== undefined ? { fixture } : {}), plugins, kvmclock });
      if (opts.json === true) ctx.io.out(stringifyJson({ schemaVersion: SCHEMA_VERSION, kind: 'conform', plugins: names, ...report }));
      else {
        ctx.io.out(formatConformanceTap(report, { verbose: opts.verbose === true }));
        if (report.recordedTo !== undefined) ctx.io.out(`# recorded ${report.recordedTo}\n`);
      }
      if (tapExitStatus(report) !== 0) ctx.status = EXIT_FAILED;
    });
}
