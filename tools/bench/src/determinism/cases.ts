/**
 * The determinism check's cases: every scenario on every arch in every variant at its defaults
 * (the `kvmlab list --json` catalogue of the built CLI, so a new scenario is a new case), plus a
 * few extra option sets that reach paths the defaults do not (several vCPUs, PML off, no EPT12).
 * Seed 0, as `kvmlab run` defaults to. Trace cases are separate: trace event names are renamed
 * by other work, so their fixture is apart from the results'.
 */
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../../../..');
export const BIN = join(ROOT, 'packages/cli/bin/kvmlab.js');
export const FIXTURES = join(ROOT, 'tools/bench/fixtures/determinism');

export interface DeterminismCase {
  /** File stem of the fixture, e.g. `nested-migration.x86_64.merged`. */
  readonly id: string;
  /** Arguments after `kvmlab run`. */
  readonly args: readonly string[];
}

interface ListJson {
  readonly scenarios: readonly { readonly name: string; readonly definitions: readonly { readonly arches: readonly string[]; readonly variants: readonly string[] }[] }[];
}

/** Extra option sets: small but real runs of paths the defaults do not take. */
const EXTRA: readonly { scenario: string; tag: string; args: readonly string[] }[] = [
  { scenario: 'nested-migration', tag: '2vcpu-2g', args: ['--l1-gib', '2', '--l2-mib', '128', '--wss-mib', '32', '--hot-mib', '8', '--vcpus', '2'] },
  { scenario: 'nested-migration', tag: 'no-pml-2g', args: ['--l1-gib', '2', '--l2-mib', '64', '--wss-mib', '16', '--hot-mib', '4', '--no-enable-pml'] },
  { scenario: 'nested-migration', tag: 'tdp-for-l2-2g', args: ['--l1-gib', '2', '--l2-mib', '64', '--wss-mib', '16', '--hot-mib', '4', '--tdp-for-l2', '--no-eptp12-ad'] },
  { scenario: 'vmx-dirty-log', tag: 'no-pml-no-ad', args: ['--no-enable-pml', '--no-ept-ad'] },
  { scenario: 'nvmx-hlt-cr3', tag: 'halt', args: ['--on-corruption', 'halt', '--frames', '120'] },
];

/** Small runs whose trace events are fingerprinted (trace.*.json fixtures). */
const TRACE: readonly { scenario: string; tag: string; args: readonly string[] }[] = [
  { scenario: 'vmx-dirty-log', tag: 'default', args: [] },
  { scenario: 'nvmx-hlt-cr3', tag: 'frames-40', args: ['--frames', '40'] },
  { scenario: 'nested-migration', tag: '2g', args: ['--l1-gib', '2', '--l2-mib', '64', '--wss-mib', '16', '--hot-mib', '4'] },
  { scenario: 'ptp-sync', tag: '60s', args: ['--duration', '60'] },
];

export function listScenarios(): ListJson {
  const r = spawnSync(process.execPath, [BIN, 'list', '--json'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`kvmlab list --json failed (${r.status}): ${r.stderr}`);
  return JSON.parse(r.stdout) as ListJson;
}

function variantsOf(list: ListJson, scenario: string): { arch: string; variant: string }[] {
  const s = list.scenarios.find((x) => x.name === scenario);
  if (s === undefined) throw new Error(`determinism: no scenario ${scenario} in kvmlab list`);
  return s.definitions.flatMap((d) => d.arches.flatMap((arch) => d.variants.map((variant) => ({ arch, variant }))));
}

const stem = (...parts: string[]): string => parts.join('.').replace(/[^A-Za-z0-9._=,-]+/g, '_');

export function resultCases(list: ListJson = listScenarios()): DeterminismCase[] {
  const out: DeterminismCase[] = [];
  for (const s of list.scenarios) {
    for (const { arch, variant } of variantsOf(list, s.name)) out.push({ id: stem(s.name, arch, variant), args: [s.name, '--arch', arch, '--variant', variant] });
  }
  for (const e of EXTRA) {
    for (const { arch, variant } of variantsOf(list, e.scenario)) {
      out.push({ id: stem(e.scenario, arch, variant, e.tag), args: [e.scenario, '--arch', arch, '--variant', variant, ...e.args] });
    }
  }
  return out;
}

export function traceCases(list: ListJson = listScenarios()): DeterminismCase[] {
  return TRACE.flatMap((t) => variantsOf(list, t.scenario).map(({ arch, variant }) => ({
    id: stem('trace', t.scenario, arch, variant, t.tag),
    args: [t.scenario, '--arch', arch, '--variant', variant, ...t.args],
  })));
}
