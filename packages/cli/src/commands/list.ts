/**
 * `kvmlab list`: the installed scenarios with a one-line description, arches, variants and
 * options — wrapped to the output width — and which feature packages are not installed.
 */
import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { missingNote } from '../host/installed.js';
import { hangingWrap, wrapText } from '../io/terminal.js';
import { SCHEMA_VERSION, stringifyJson } from '../json-output.js';
import { describeOption, durationKey, optionFlags } from '../scenario-options.js';
import { axesOf, describeAxes } from '../variants.js';

export function registerList(program: Command, ctx: CliContext): void {
  program
    .command('list')
    .description('list the installed scenarios with their arches, variants and options')
    .option('--json', 'print the list as JSON (schemaVersion 1, kind "list")')
    .action((opts: { json?: boolean }) => {
      const entries = ctx.catalog.entries();
      if (opts.json === true) {
        ctx.io.out(
          stringifyJson({
            schemaVersion: SCHEMA_VERSION,
            kind: 'list',
            scenarios: entries.map((e) => ({
              name: e.name,
              description: e.description,
              definitions: e.defs.map((d) => ({
                package: d.package,
                arches: [...d.arches],
                variants: [...d.variants],
                defaultVariant: d.defaultVariant,
                ...(d.variantAxes !== undefined ? { variantAxes: axesOf(d).map((a) => ({ name: a.name, values: [...a.values] })) } : {}),
                ...(d.matrixFigures !== undefined ? { matrixFigures: [...d.matrixFigures] } : {}),
                options: d.options,
              })),
            })),
          }),
        );
        return;
      }
      const w = ctx.width;
      const note = missingNote(ctx.installed);
      const tail = note !== undefined ? `${note.split('\n').map((l) => wrapText(l, w).join('\n')).join('\n')}\n` : '';
      if (entries.length === 0) {
        ctx.io.out(`No scenarios installed.\n${tail}`);
        return;
      }
      const lines: string[] = [];
      for (const e of entries) {
        lines.push(hangingWrap(`${e.name} — `, e.description, w));
        for (const d of e.defs) {
          // Axes, not their product: 2 × 3 cell names say less than the two lists they come from.
          const variants = describeAxes(d) ?? d.variants.map((v) => (v === d.defaultVariant ? `${v} (default)` : v)).join(', ');
          lines.push(hangingWrap('  ', `arch ${d.arches.join(', ')} (${d.package}); variants: ${variants}`, w));
          for (const f of optionFlags(d)) {
            // The duration goes by run's one --duration flag (the scenario's own is a hidden alias).
            const arg = f.key === durationKey(d) ? '--duration <d>' : f.spec.type === 'boolean' ? `--${f.flag} / --no-${f.flag}` : `--${f.flag} <${f.spec.type === 'number' ? 'n' : 'value'}>`;
            lines.push(hangingWrap('    ', arg, w));
            lines.push(hangingWrap('        ', describeOption(f.spec, d), w));
          }
        }
        lines.push('');
      }
      lines.push(...wrapText('Run one with: kvmlab run <scenario> [--variant v | axis=v,… | all] [--arch a] [--seed n] [options]; kvmlab run <scenario> --help shows its options.', w));
      ctx.io.out(`${lines.join('\n')}\n${tail}`);
    });
}
