/** `kvmlab affected --kernel v`: which modelled bugs a mainline kernel has, which fixes it lacks. */
import { Option, type Command } from 'commander';
import type { Arch } from '@kvmlab/hypervisor-core';
import { ARCHES, type CliContext } from '../context.js';
import { SCHEMA_VERSION, stringifyJson } from '../json-output.js';
import { kernelRows, parseKernelVersion } from '../kernel-table.js';
import { textTable } from '../text-table.js';

const STATUS_TEXT = { affected: 'AFFECTED (lacks the fix)', fixed: 'fixed', present: 'has the feature', absent: 'feature absent' } as const;

export function registerAffected(program: Command, ctx: CliContext): void {
  program
    .command('affected')
    .description('say which modelled bugs a mainline kernel version has and which fixes it lacks')
    .requiredOption('--kernel <version>', 'kernel version, e.g. 5.4, v5.5.1 or 6.1.0-18-amd64 (uname -r)')
    .addOption(new Option('--arch <arch>', 'only this architecture').choices(ARCHES))
    .option('--json', 'print as JSON (schemaVersion 1, kind "affected")')
    .action((opts: { kernel: string; arch?: Arch; json?: boolean }) => {
      const v = parseKernelVersion(opts.kernel);
      const rows = kernelRows(v, opts.arch);
      if (opts.json === true) {
        ctx.io.out(
          stringifyJson({
            schemaVersion: SCHEMA_VERSION,
            kind: 'affected',
            kernel: v.text,
            rows: rows.map((r) => ({ id: r.entry.id, kind: r.entry.kind, title: r.entry.title, short: r.entry.short, arch: r.entry.arch, since: r.entry.since, status: r.status, variant: r.variant ?? null, scenarios: [...r.entry.scenarios], source: r.entry.source })),
          }),
        );
        return;
      }
      const table = textTable(
        ['arch', 'change', 'in mainline', `Linux ${v.major}.${v.minor}`, 'model variant', 'scenarios'],
        rows.map((r) => [r.entry.arch, r.entry.short, r.entry.since, STATUS_TEXT[r.status], r.variant ?? '-', r.entry.scenarios.join(', ')]),
      );
      const n = rows.filter((r) => r.status === 'affected').length;
      ctx.io.out(`${table}\n${n === 0 ? 'No modelled bug affects' : `${n} modelled bug(s) affect`} mainline ${v.major}.${v.minor}. Stable and distribution kernels may carry backports; check their changelogs for the commits in \`kvmlab affected --json\`.\n`);
    });
}
