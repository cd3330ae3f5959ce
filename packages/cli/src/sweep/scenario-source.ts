/**
 * Where a sweep's scenarios come from: the installed feature packages, or — for authors of
 * their own scenarios, and the tests — an ES module that exports `scenarios` (ScenarioDef[]),
 * given with --scenarios. The main thread and every worker load the same source.
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { ScenarioDef } from '@kvmlab/hypervisor-core';
import { ScenarioCatalog } from '../catalog.js';
import { UsageError } from '../errors.js';

/** The module's URL for workers (absolute), from a path given on the command line. */
export const scenariosModuleUrl = (cwd: string, file: string): string => pathToFileURL(resolve(cwd, file)).href;

export async function loadCatalog(moduleUrl: string | undefined): Promise<ScenarioCatalog> {
  if (moduleUrl === undefined) return (await import('../scenarios.js')).defaultCatalogAsync();
  let mod: { scenarios?: unknown };
  try {
    mod = (await import(moduleUrl)) as { scenarios?: unknown };
  } catch (e) {
    throw new UsageError(`--scenarios ${moduleUrl}: cannot load it (${e instanceof Error ? e.message.split('\n')[0] : String(e)})`);
  }
  if (!Array.isArray(mod.scenarios)) throw new UsageError(`--scenarios ${moduleUrl}: the module exports no \`scenarios\` array`);
  return new ScenarioCatalog(mod.scenarios as ScenarioDef[]);
}
