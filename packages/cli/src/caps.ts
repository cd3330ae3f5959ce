/**
 * `kvmlab caps`'s report over every feature package imported statically: the playground's
 * entry (it bundles all of them). The CLI reports on what is installed (caps-report.ts).
 */
import type { Arch } from '@kvmlab/hypervisor-core';
import { psciDtInit } from '@kvmlab/psci-conduit';
import { capsReportOn, selectPlugins as selectFrom, type CapsHost, type CapsReport } from './caps-report.js';
import { ALL_PLUGIN_FACTORIES } from './plugins.js';
import { allConstants } from './symbols.js';

export type { CapsHost, CapsReport } from './caps-report.js';

const everything = (): CapsHost => ({ plugins: ALL_PLUGIN_FACTORIES, constants: allConstants(), psciDtInit });

export function capsReport(arch: Arch, pluginNames: readonly string[]): CapsReport {
  return capsReportOn(everything(), arch, pluginNames);
}

export function selectPlugins(arch: Arch, list: string | undefined): readonly string[] {
  return selectFrom(arch, list, ALL_PLUGIN_FACTORIES);
}
