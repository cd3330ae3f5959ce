/**
 * What this CLI hosts: the feature packages that are installed next to it (each imported at
 * run time; a missing one is noted, not an error), plus the plugins and scenarios of the
 * user's kvmlab.config.ts. Commands list, compose and run only these.
 */
import { basename } from 'node:path';
import type { ScenarioDef } from '@kvmlab/hypervisor-core';
import * as core from '@kvmlab/hypervisor-core';
import { UsageError } from '../errors.js';
import { findConfig, loadConfig } from './config.js';
import { FEATURE_PACKAGES, type FeaturePackage, type LoadedPackage, type PluginFactory } from './feature-packages.js';

export interface MissingPackage {
  readonly package: string;
  readonly about: string;
  readonly scenarios: readonly string[];
  readonly plugins: readonly string[];
  /** Absent: simply not installed. Present: installed but it failed to load (why). */
  readonly error?: string;
}

export interface Installed {
  readonly scenarios: readonly ScenarioDef[];
  readonly plugins: readonly PluginFactory[];
  /** Module namespaces whose UPPER_SNAKE exports name KVM constants (core first). */
  readonly constantModules: readonly Readonly<Record<string, unknown>>[];
  /** Installed feature packages, in FEATURE_PACKAGES order. */
  readonly packages: readonly string[];
  readonly missing: readonly MissingPackage[];
  /** The user config that was loaded, if any. */
  readonly config?: { readonly file: string; readonly plugins: readonly string[]; readonly scenarios: readonly string[] };
  /** Loaded package namespaces by name (conform reaches linux-kvm and ptp-kvm-x86 this way). */
  readonly modules: ReadonlyMap<string, Readonly<Record<string, unknown>>>;
}

export interface LoadInstalledOptions {
  readonly cwd: string;
  /** `--config FILE`; undefined: look for kvmlab.config.* in cwd. */
  readonly configFile?: string;
  /** false: no user config at all. */
  readonly useConfig?: boolean;
  /** Which packages to try (tests stand in a missing one). */
  readonly packages?: readonly FeaturePackage[];
}

/** Node's message for a package that is not there: "Cannot find package '@kvmlab/x' imported from …". */
const notFound = (e: unknown, pkg: string): boolean => {
  const err = e as NodeJS.ErrnoException;
  return (err.code === 'ERR_MODULE_NOT_FOUND' || err.code === 'MODULE_NOT_FOUND') && (err.message.includes(`'${pkg}'`) || err.message.includes(`"${pkg}"`));
};

export async function loadInstalled(opts: LoadInstalledOptions): Promise<Installed> {
  const scenarios: ScenarioDef[] = [];
  const plugins: PluginFactory[] = [];
  const constantModules: Readonly<Record<string, unknown>>[] = [core as Readonly<Record<string, unknown>>];
  const packages: string[] = [];
  const missing: MissingPackage[] = [];
  const modules = new Map<string, Readonly<Record<string, unknown>>>();
  type Tried = { readonly p: FeaturePackage; readonly loaded: LoadedPackage } | { readonly p: FeaturePackage; readonly error: unknown };
  const tried = await Promise.all((opts.packages ?? FEATURE_PACKAGES).map(async (p): Promise<Tried> => {
    try {
      return { p, loaded: await p.load() };
    } catch (e) {
      return { p, error: e };
    }
  }));
  for (const t of tried) {
    const { p } = t;
    if ('loaded' in t) {
      packages.push(p.package);
      scenarios.push(...t.loaded.scenarios);
      plugins.push(...t.loaded.plugins);
      constantModules.push(t.loaded.module);
      modules.set(p.package, t.loaded.module);
    } else {
      const base = { package: p.package, about: p.about, scenarios: p.scenarios, plugins: p.plugins };
      missing.push(notFound(t.error, p.package) ? base : { ...base, error: (t.error instanceof Error ? t.error.message : String(t.error)).split('\n')[0]! });
    }
  }
  const file = opts.useConfig === false ? undefined : findConfig(opts.cwd, opts.configFile);
  if (file === undefined) return { scenarios, plugins, constantModules, packages, missing, modules };
  const { config } = await loadConfig(file);
  const name = basename(file);
  const own = (config.plugins ?? []).map((p) => ({ name: p.name, package: p.package ?? name, arches: p.arches, create: p.create }));
  for (const p of own) {
    if (plugins.some((q) => q.name === p.name)) throw new UsageError(`${name}: plugin "${p.name}" is already provided by ${plugins.find((q) => q.name === p.name)!.package}`);
  }
  for (const s of config.scenarios ?? []) {
    const clash = scenarios.find((d) => d.name === s.name && d.arches.some((a) => s.arches.includes(a)));
    if (clash !== undefined) throw new UsageError(`${name}: scenario "${s.name}" is already provided by ${clash.package} on ${clash.arches.join(', ')}`);
  }
  plugins.push(...own);
  scenarios.push(...(config.scenarios ?? []));
  return {
    scenarios, plugins, constantModules, packages, missing, modules,
    config: { file, plugins: own.map((p) => p.name), scenarios: (config.scenarios ?? []).map((s) => s.name) },
  };
}

/** Hosting nothing (commands that need no scenario or plugin). */
export const NOTHING_INSTALLED: Installed = { scenarios: [], plugins: [], constantModules: [core as Readonly<Record<string, unknown>>], packages: [], missing: [], modules: new Map() };

/** One line for `list` / `caps`: what is not installed, and how to add it. */
export function missingNote(inst: Installed): string | undefined {
  const absent = inst.missing.filter((m) => m.error === undefined);
  const broken = inst.missing.filter((m) => m.error !== undefined);
  const parts: string[] = [];
  if (absent.length > 0) {
    const what = absent.map((m) => {
      const gives = [...m.scenarios.map((s) => `scenario ${s}`), ...m.plugins.map((p) => `plugin ${p}`)];
      return `${m.package}${gives.length > 0 ? ` (${[...new Set(gives)].join(', ')})` : ''}`;
    });
    parts.push(`Not installed: ${what.join(', ')}. Install a package next to @kvmlab/cli to add what it provides (see the @kvmlab/cli README, "Installing").`);
  }
  for (const b of broken) parts.push(`${b.package} is installed but did not load: ${b.error}`);
  return parts.length > 0 ? parts.join('\n') : undefined;
}

/** The package that would provide a scenario or plugin that is not installed, for error messages. */
export function providerOf(inst: Installed, kind: 'scenario' | 'plugin', name: string): MissingPackage | undefined {
  return inst.missing.find((m) => (kind === 'scenario' ? m.scenarios : m.plugins).includes(name));
}
