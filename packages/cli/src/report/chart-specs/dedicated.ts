/**
 * Which scenarios open with a figure designed for them (see leads.ts) rather than with their
 * key figure per variant: the four series' scenarios by name, and any scenario with variant
 * axes (its grid of cells).
 */
import type { ResultJson } from '../../json-output.js';

export const DEDICATED_LEADS: ReadonlySet<string> = new Set(['nvmx-hlt-cr3', 'vmx-dirty-log', 'nested-migration', 'ptp-sync']);

export function hasDedicatedLead(rs: readonly ResultJson[]): boolean {
  return rs.some((r) => DEDICATED_LEADS.has(r.scenario) || r.variants !== undefined);
}
