/**
 * `kvmlab affected [--kernel v] [--backports c1,c2 | file.json] [--run]`: per modelled series,
 * whether a kernel has the bug, in the words of /sys/devices/system/cpu/vulnerabilities
 * ("Vulnerable", "Not affected", "Unknown: …"), with the reason; the default kernel is this
 * machine's `uname -r`. `--run` composes the hypervisor that kernel is and runs each series' bug
 * scenario on it, so the verdict stands next to the symptom it predicts.
 */
import { readFileSync } from 'node:fs';
import { release as unameRelease } from 'node:os';
import { resolve } from 'node:path';
import { Option, type Command } from 'commander';
import type { Arch } from '@kvmlab/hypervisor-core';
import { ARCHES, type CliContext } from '../context.js';
import { UsageError } from '../errors.js';
import { SCHEMA_VERSION, stringifyJson } from '../json-output.js';
import { kernelRows, parseKernelVersion, type KernelRow, type KernelVersion } from '../kernel-table.js';
import { textTable } from '../text-table.js';
import { displayVerdict } from '../verdicts.js';
import { runKernelScenarios, type KernelRun } from './affected-run.js';

/** The sysfs-style word for each status. */
export const STATUS_TEXT: Readonly<Record<KernelRow['status'], string>> = {
  vulnerable: 'Vulnerable',
  'not-affected': 'Not affected',
  unknown: 'Unknown (cannot tell from the version)',
  present: 'Present',
  absent: 'Not present',
};

/** `--backports`: commit ids separated by commas, or a JSON file `{ "backports": ["04f11ef45810", …] }` (or a bare array). */
export function parseBackports(text: string | undefined, cwd: string): readonly string[] {
  if (text === undefined) return [];
  if (text.endsWith('.json')) {
    let doc: unknown;
    try {
      doc = JSON.parse(readFileSync(resolve(cwd, text), 'utf8'));
    } catch (e) {
      throw new UsageError(`--backports ${text}: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`);
    }
    const list = Array.isArray(doc) ? doc : (doc as { backports?: unknown } | null)?.backports;
    if (!Array.isArray(list) || !list.every((c) => typeof c === 'string')) throw new UsageError(`--backports ${text}: expected a JSON array of commit ids or { "backports": [...] }`);
    return list as string[];
  }
  const list = text.split(',').map((c) => c.trim()).filter((c) => c !== '');
  if (list.length === 0) throw new UsageError('--backports needs at least one commit id');
  return list;
}

function textView(v: KernelVersion, rows: readonly KernelRow[], runs: readonly KernelRun[] | undefined, fromUname: boolean, width: number): string {
  const head = `Linux ${v.text}${fromUname ? ' (this machine, uname -r)' : ''}\n`;
  const table = textTable(
    ['arch', 'series', 'status', 'model variant', 'why'],
    rows.map((r) => [r.entry.arch, r.entry.short, STATUS_TEXT[r.status], r.variant ?? '-', r.reason]),
    width,
  );
  const vulnerable = rows.filter((r) => r.status === 'vulnerable').length;
  const unknown = rows.filter((r) => r.status === 'unknown').length;
  const tail = `${vulnerable === 0 ? 'No modelled bug is known to affect' : `${vulnerable} modelled bug(s) affect`} this kernel${unknown > 0 ? `; ${unknown} cannot be told from the version (name the commits it carries with --backports)` : ''}.\n`;
  const runText = runs === undefined ? '' : `\nRun on the model of this kernel:\n${textTable(['scenario', 'variant', 'verdict', 'symptom'], runs.map((r) => [r.scenario, r.variant, displayVerdict(r.verdict), r.summary]), width)}`;
  return head + table + tail + runText;
}

export function registerAffected(program: Command, ctx: CliContext): void {
  program
    .command('affected')
    .description('say, for a kernel version, which modelled bugs it has (Vulnerable / Not affected / Unknown) and why; --run shows the symptoms')
    .option('--kernel <version>', 'kernel version: 5.4, v5.5.1, 5.5-rc1, 5.4.0-150-generic, 4.18.0-348.el8.x86_64 (default: this machine, uname -r)')
    .option('--backports <commits>', 'upstream commits the kernel carries beyond its version: c1,c2 or a JSON file ({ "backports": [...] })')
    .addOption(new Option('--arch <arch>', 'only this architecture').choices(ARCHES))
    .option('--run', 'compose the hypervisor this kernel is and run each series\' bug scenario on it')
    .option('--json', 'print as JSON (schemaVersion 1, kind "affected")')
    .action((opts: { kernel?: string; backports?: string; arch?: Arch; run?: boolean; json?: boolean }) => {
      const fromUname = opts.kernel === undefined;
      const v = parseKernelVersion(opts.kernel ?? unameRelease());
      const backports = parseBackports(opts.backports, ctx.io.cwd);
      const rows = kernelRows(v, opts.arch, backports);
      const runs = opts.run === true ? runKernelScenarios(ctx.catalog, v, backports, opts.arch) : undefined;
      if (opts.json === true) {
        ctx.io.out(stringifyJson({
          schemaVersion: SCHEMA_VERSION,
          kind: 'affected',
          kernel: v.text,
          backports: [...backports],
          rows: rows.map((r) => ({
            id: r.entry.id, kind: r.entry.kind, title: r.entry.title, short: r.entry.short, arch: r.entry.arch, since: r.entry.since, status: r.status,
            statusText: STATUS_TEXT[r.status], reason: r.reason, variant: r.variant ?? null, scenarios: [...r.entry.scenarios], source: r.entry.source,
          })),
          ...(runs !== undefined ? { runs: runs.map((r) => ({ ...r })) } : {}),
        }));
        return;
      }
      ctx.io.out(textView(v, rows, runs, fromUname, ctx.width));
    });
}
