/**
 * nvmx-hlt-cr3, frame by frame: L1 (Muen) enters a subject's vmcs12 — unless L0 squashes the
 * entry because the subject is halted —, the subject exits back to L1, and Muen checks the
 * CR3 it finds in vmcs12.guest_cr3 against the subject's own. From details.frames,
 * details.subjectCr3s and the cr3-timeline series (vmcs02.GUEST_CR3 and every vmcs12.guest_cr3
 * after each nested exit).
 */
import { EXIT_REASON_NAMES } from '@kvmlab/hypervisor-core';
import type { ResultJson } from '../../../cli/src/json-output.js';
import { at, hex, isObj, nullableNumbers, numbers, seriesOf, strings } from './read.js';
import type { Step } from './types.js';

export function nvmxHltCr3Steps(r: ResultJson): readonly Step[] {
  const subject = numbers(at(r.details, 'frames', 'subject'));
  const squashed = numbers(at(r.details, 'frames', 'squashed'));
  const corruption = numbers(at(r.details, 'frames', 'corruption'));
  const reasons = numbers(at(r.details, 'frames', 'exitReason'));
  const muenLog = at(r.details, 'frames', 'muenLog');
  const own = at(r.details, 'subjectCr3s');
  const timeline = seriesOf(r, 'cr3-timeline');
  if (subject === undefined || squashed === undefined || corruption === undefined || !isObj(own) || timeline === undefined) return [];
  const vmcs02 = timeline.y['vmcs02.GUEST_CR3'] ?? [];
  const vmcs12 = (s: number): readonly (number | null)[] => nullableNumbers(timeline.y[`S${s} vmcs12.guest_cr3`]) ?? [];
  const lines = Array.isArray(muenLog) ? muenLog : [];
  const steps: Step[] = [];
  subject.forEach((s, f) => {
    const where = `frame ${f}`;
    const ownCr3s = strings(own[String(s)]) ?? [];
    const before12 = f > 0 ? vmcs12(s)[f - 1] : undefined;
    const before02 = f > 0 ? vmcs02[f - 1] : undefined;
    if (squashed[f] === 1) {
      steps.push({
        where, bad: false,
        title: `nested VM-Enter of S${s}, HLT-squashed by L0: S${s} is halted, L2 does not run`,
        fields: [[`vmcs12(S${s}).guest_cr3`, hex(before12)], ['vmcs02.GUEST_CR3 (shared, not rewritten)', hex(before02)]],
      });
    } else {
      steps.push({
        where, bad: false,
        title: `nested VM-Enter of S${s}: L0 loads vmcs12 into the shared vmcs02`,
        fields: [[`vmcs12(S${s}).guest_cr3`, hex(before12)], ['vmcs02.GUEST_CR3 before', hex(before02)]],
      });
    }
    const reason = reasons?.[f];
    const name = reason !== undefined ? EXIT_REASON_NAMES.get(reason) : undefined;
    steps.push({
      where, bad: false,
      title: `nested VM-Exit of S${s}${reason !== undefined ? `, reason ${reason}${name !== undefined ? ` ${name}` : ''}` : ''}: L0 syncs vmcs02 back into vmcs12`,
      fields: [['vmcs02.GUEST_CR3', hex(vmcs02[f])], [`vmcs12(S${s}).guest_cr3`, hex(vmcs12(s)[f])]],
    });
    const caught = corruption[f] === 1;
    const line = lines[f];
    steps.push({
      where, bad: caught,
      title: caught ? `Muen's check: CR3 of S${s} changed` : `Muen's check of S${s}: CR3 as expected`,
      fields: [[`S${s}'s own CR3`, ownCr3s.join(', ') || '—'], ['found in vmcs12.guest_cr3', hex(vmcs12(s)[f])]],
      ...(caught && typeof line === 'string' ? { log: line } : {}),
    });
  });
  return steps;
}
