/**
 * nested-migration, round by round of the nested workload's pre-copy: the pages the dirty log
 * reported at the sync against the pages the guest really wrote (the migration's own oracle),
 * then the switch-over and the pages lost. From details.nested.precopy.
 */
import type { ResultJson } from '../../../cli/src/json-output.js';
import { at, num, numbers, objects } from './read.js';
import type { Step } from './types.js';

const n = (v: number | undefined): string => (v === undefined ? '?' : v.toLocaleString('en-US'));

export function nestedMigrationSteps(r: ResultJson): readonly Step[] {
  const steps: Step[] = [];
  for (const workload of ['nested', 'plain'] as const) {
    const pre = at(r.details, workload, 'precopy');
    const rounds = objects(at(pre, 'rounds'));
    if (rounds === undefined) continue;
    const label = workload === 'nested' ? 'nested L2 workload' : 'plain L1 workload';
    for (const x of rounds) {
      const missed = num(x['writtenNotReported']);
      steps.push({
        where: `${label}, round ${n(num(x['round']))}`,
        title: missed !== undefined && missed > 0 ? `pre-copy round ${n(num(x['round']))}: ${n(missed)} written pages not reported` : `pre-copy round ${n(num(x['round']))}: every written page reported`,
        fields: [
          ['pages sent', n(num(x['pagesSent']))],
          ['reported dirty at the sync (KVM_GET_DIRTY_LOG)', n(num(x['dirtyPagesAtSync']))],
          ['really written since the previous sync', n(num(x['pagesWritten']))],
          ['written, not reported', n(missed)],
        ],
        bad: missed !== undefined && missed > 0,
      });
    }
    const lost = num(at(pre, 'pagesLost'));
    const gfns = numbers(at(pre, 'lostGfns')) ?? [];
    steps.push({
      where: `${label}, switch-over`,
      title: lost !== undefined && lost > 0 ? `switch-over: ${n(lost)} pages lost` : 'switch-over: no page lost',
      fields: [
        ['pages compared', n(num(at(pre, 'pagesCompared')))],
        ['pages lost', n(lost)],
        ['downtime (ms)', n(num(at(pre, 'downtimeMs')))],
        ...(gfns.length > 0 ? [['first lost GFNs', gfns.slice(0, 8).map((g) => `0x${g.toString(16)}`).join(', ')] as [string, string]] : []),
      ],
      bad: lost !== undefined && lost > 0,
    });
  }
  return steps;
}
