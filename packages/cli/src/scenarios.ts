/**
 * The scenarios of the installed feature packages (core's ScenarioDef contract), for callers
 * of the library: `defaultCatalog()` is what `kvmlab list` shows without a config file.
 */
import type { ScenarioDef } from '@kvmlab/hypervisor-core';
import { ScenarioCatalog } from './catalog.js';
import { loadInstalled } from './host/installed.js';

/** The installed packages' scenarios, in package order (the catalog sorts by name). */
export async function installedScenarioDefs(): Promise<readonly ScenarioDef[]> {
  return (await loadInstalled({ cwd: process.cwd(), useConfig: false })).scenarios;
}

export async function defaultCatalogAsync(): Promise<ScenarioCatalog> {
  return new ScenarioCatalog(await installedScenarioDefs());
}
