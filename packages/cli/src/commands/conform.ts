/**
 * `kvmlab conform`: differential conformance of the model against the Linux KVM ABI, through
 * @kvmlab/linux-kvm's runConformance() — the kernel's recorded answers by default, the running
 * kernel's /dev/kvm with --live (and saved as a new recording with --record).
 */
import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { EXIT_FAILED } from '../errors.js';
import { SCHEMA_VERSION, stringifyJson } from '../json-output.js';

export function registerConform(program: Command, ctx: CliContext): void {
  program
    .command('conform')
    .description('compare the model with the Linux KVM ABI step by step (recorded kernel answers, or /dev/kvm with --live)')
    .option('--live', 'run the scripts on this machine\'s /dev/kvm too (fails if it is not usable)')
    .option('--record', 'save the live kernel\'s answers as a new recording (implies --live)')
    .option('--plugins <list>', 'x86 plugins to install in the model, e.g. kvm-mmu-pml (default: none)')
    .option('--json', 'print the report as JSON (schemaVersion 1, kind "conform")')
    .action(async (opts: { live?: boolean; record?: boolean; plugins?: string; json?: boolean }) => {
      // Loaded here: linux-kvm brings koffi (a native FFI module) that no other command needs.
      const { runConformance, formatConformanceTable } = await import('@kvmlab/linux-kvm');
      const { selectPlugins } = await import('../caps.js');
      const { PLUGIN_FACTORIES } = await import('../plugins.js');
      const names = opts.plugins === undefined ? [] : selectPlugins('x86_64', opts.plugins);
      const plugins = (): ReturnType<(typeof PLUGIN_FACTORIES)[number]['create']>[] => names.map((n) => PLUGIN_FACTORIES.find((f) => f.name === n)!.create());
      const report = runConformance({ live: opts.live === true, record: opts.record === true, plugins });
      if (opts.json === true) ctx.io.out(stringifyJson({ schemaVersion: SCHEMA_VERSION, kind: 'conform', plugins: names, ...report }));
      else {
        ctx.io.out(`${formatConformanceTable(report).trimEnd()}\n${report.recordedTo ? `recorded ${report.recordedTo}\n` : ''}`);
      }
      if (report.counts.mismatch > 0) ctx.status = EXIT_FAILED;
    });
}
