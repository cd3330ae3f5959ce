/**
 * Where a sweep's scenarios come from, in the main thread and in every worker alike: the
 * installed feature packages plus the user's kvmlab.config file (the same hosting as `run`,
 * `list` or `demo`: host/installed.ts, so a config scenario sweeps like an installed one), or —
 * for authors of their own scenarios, and the tests — an ES module that exports `scenarios`
 * (ScenarioDef[]), given with --scenarios, instead of both. A worker thread shares no module
 * state with the main thread, so the source travels in each task as plain data and the worker
 * loads it itself (once per thread).
 */
import { dirname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { ScenarioDef } from '@kvmlab/hypervisor-core';
import { ScenarioCatalog } from '../catalog.js';
import { UsageError } from '../errors.js';
import { loadInstalled } from '../host/installed.js';

export type ScenarioSource =
  /** The installed packages, and the config file the main thread loaded (absolute path) if any. */
  | { readonly kind: 'installed'; readonly configFile?: string }
  /** `--scenarios`: an ES module's URL (absolute). */
  | { readonly kind: 'module'; readonly url: string };

/** The module's URL for workers (absolute), from a path given on the command line. */
export const scenariosModuleUrl = (cwd: string, file: string): string => pathToFileURL(resolve(cwd, file)).href;

/** A key that is equal for equal sources (the worker's cache). */
export const sourceKey = (s: ScenarioSource): string => (s.kind === 'module' ? `module ${s.url}` : `installed ${s.configFile ?? ''}`);

async function loadModule(url: string): Promise<ScenarioCatalog> {
  let mod: { scenarios?: unknown };
  try {
    mod = (await import(url)) as { scenarios?: unknown };
  } catch (e) {
    throw new UsageError(`--scenarios ${url}: cannot load it (${e instanceof Error ? e.message.split('\n')[0] : String(e)})`);
  }
  if (!Array.isArray(mod.scenarios)) throw new UsageError(`--scenarios ${url}: the module exports no \`scenarios\` array`);
  return new ScenarioCatalog(mod.scenarios as ScenarioDef[]);
}

export async function loadCatalog(source: ScenarioSource): Promise<ScenarioCatalog> {
  if (source.kind === 'module') return loadModule(source.url);
  // The file is named exactly (never searched for again): a worker loads what the main thread did.
  const installed = source.configFile !== undefined
    ? await loadInstalled({ cwd: dirname(source.configFile), configFile: source.configFile })
    : await loadInstalled({ cwd: process.cwd(), useConfig: false });
  return new ScenarioCatalog(installed.scenarios);
}
