/**
 * `kvmlab affected --run`: for a kernel version, each series' bug scenario on the model of that
 * kernel — the variants the release timeline gives it — at a size that runs in seconds. A series
 * the kernel does not have runs as the package's model of life without it when there is one
 * (ptp_kvm before 5.13 on arm64: ptp-sync's `none`), and is skipped with the reason otherwise.
 */
import type { Arch, ScenarioOptionValues } from '@kvmlab/hypervisor-core';
import type { ScenarioCatalog } from '../catalog.js';
import { cellForKernel, kernelRows, type KernelVersion } from '../kernel-table.js';
import { runScenario } from '../runner.js';
import { parseScenarioOptions } from '../scenario-options.js';
import { formatFigure } from '../text-table.js';
import { displayVerdict } from '../verdicts.js';
import { variantCellName } from '@kvmlab/hypervisor-core';

export interface KernelRun {
  readonly scenario: string;
  readonly arch: Arch;
  readonly variant: string;
  readonly verdict: string;
  readonly summary: string;
  readonly headline: string;
}

/** The bug scenarios, with options that keep each run short (the defaults are the demo's sizes). */
const RUNS: readonly { readonly scenario: string; readonly arch: Arch; readonly options: Readonly<Record<string, string>> }[] = [
  { scenario: 'nvmx-hlt-cr3', arch: 'x86_64', options: { frames: '80' } },
  { scenario: 'nested-migration', arch: 'x86_64', options: { l1GiB: '2', l2MiB: '64', wssMiB: '32', hotMiB: '8' } },
  { scenario: 'vmx-dirty-log', arch: 'x86_64', options: {} },
  { scenario: 'nested-muen-migration', arch: 'x86_64', options: {} },
  { scenario: 'ptp-sync', arch: 'arm64', options: {} },
];

export function runKernelScenarios(catalog: ScenarioCatalog, v: KernelVersion, backports: readonly string[], arch?: Arch): readonly KernelRun[] {
  const out: KernelRun[] = [];
  for (const r of RUNS) {
    if (arch !== undefined && r.arch !== arch) continue;
    if (!catalog.has(r.scenario)) continue;
    const { def } = catalog.resolve(r.scenario, r.arch);
    const row = kernelRows(v, r.arch, backports).find((k) => k.entry.scenarios.includes(r.scenario));
    if (row === undefined) continue;
    if (row.variant === undefined) {
      out.push({ scenario: r.scenario, arch: r.arch, variant: '-', verdict: 'skipped', summary: `not run: ${row.entry.short} is not in this kernel (${row.reason})`, headline: '-' });
      continue;
    }
    const variant = def.variantAxes !== undefined ? variantCellName(def.variantAxes, cellForKernel(def.name, def.variantAxes, r.arch, v, backports)) : row.variant;
    const options: ScenarioOptionValues = parseScenarioOptions(def, r.options);
    const { result } = runScenario({ def, arch: r.arch, variant, seed: 0, options, trace: false });
    out.push({ scenario: r.scenario, arch: r.arch, variant, verdict: displayVerdict(result.verdict), summary: result.summary, headline: `${result.headline.label}: ${formatFigure(result.headline)}` });
  }
  return out;
}
