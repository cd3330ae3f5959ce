/**
 * vmx-dirty-log, sync by sync: where the guest code ran (L1 or L2), what the test expects of
 * page 0, the bitmap KVM_GET_DIRTY_LOG returned for slot 1's pages, and the test's own check.
 * From details.syncs and details.bits (and, where the scenario records them, the L2 stores,
 * PML log entries and SPTE kinds of each sync).
 */
import type { ResultJson } from '../../../cli/src/json-output.js';
import { at, num, numbers, objects, str, strings } from './read.js';
import type { Step } from './types.js';

const bits = (pages: readonly string[], v: readonly number[] | undefined): string =>
  v === undefined ? '—' : pages.map((p, i) => `${p}:${String(v[i] ?? '?')}`).join('  ');

export function vmxDirtyLogSteps(r: ResultJson): readonly Step[] {
  const syncs = objects(at(r.details, 'syncs'));
  const pages = strings(at(r.details, 'bits', 'pageGpas'));
  const bitSyncs = objects(at(r.details, 'bits', 'syncs'));
  if (syncs === undefined || pages === undefined || bitSyncs === undefined) return [];
  return syncs.map((s, i) => {
    const b = bitSyncs[i];
    const failed = str(s['result']) !== 'pass';
    const fields: [string, string][] = [
      ['guest code in', str(s['where']) ?? '?'],
      ['the test expects', str(s['expected']) ?? '?'],
      ['L2 stores since the last sync', (strings(s['l2Stores']) ?? []).join(', ') || (s['l2Stores'] === undefined ? '(not recorded)' : 'none')],
      ['PML log entries (GPAs)', (strings(s['pmlEntries']) ?? []).join(', ') || (s['pmlEntries'] === undefined ? '(not recorded)' : 'none')],
      ['SPTE kinds of slot 1', (strings(s['spteKinds']) ?? []).join(', ') || '(not recorded)'],
      ['expected bits (page GPA:bit)', bits(pages, numbers(b?.['expected']))],
      ['KVM_GET_DIRTY_LOG bitmap', bits(pages, numbers(b?.['reported']))],
      ['pages reported dirty', str(s['reported']) ?? '?'],
      ['page 0, first qword', str(s['page0']) ?? '?'],
    ].filter(([, v]) => v !== '(not recorded)') as [string, string][];
    const message = b !== undefined ? str(b['message']) : undefined;
    return {
      where: `sync ${num(s['sync']) ?? i + 1}`,
      title: failed ? `GUEST_SYNC ${num(s['sync']) ?? i + 1}: the check failed` : `GUEST_SYNC ${num(s['sync']) ?? i + 1}: the check passed`,
      fields,
      bad: failed,
      ...(failed && message !== undefined ? { log: message } : {}),
    };
  });
}
