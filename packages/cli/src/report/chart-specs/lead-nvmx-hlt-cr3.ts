/**
 * nvmx-hlt-cr3's lead: per variant a timeline with one lane per Muen subject (x = minor frame):
 * the frames each subject ran, the entries L0 squashed because the subject was halted, and each
 * corruption Muen's check caught. A lane's name carries the subject's own CR3 in hex, its note
 * the first wrong CR3 it was handed and whose that was. All from the scenario's
 * details.frames / subjectCr3s / corruptions.
 */
import type { ResultJson } from '../../json-output.js';
import { at, figure, isObj, nullableNumbers, numbers, objects, str, strings } from './read.js';
import type { LaneMark, LanesPanel, LeadFigure } from './types.js';

const LANE_PX = 17;
const MARK_NAMES: Readonly<Record<LaneMark, string>> = { ran: 'frame ran', squashed: 'entry HLT-squashed by L0', corruption: 'corruption caught by Muen' };

function panelFor(r: ResultJson, first: boolean): LanesPanel | undefined {
  const subject = numbers(at(r.details, 'frames', 'subject'));
  const squashed = numbers(at(r.details, 'frames', 'squashed'));
  const corruption = numbers(at(r.details, 'frames', 'corruption'));
  const foundOf = nullableNumbers(at(r.details, 'frames', 'foundCr3Of'));
  const cr3s = at(r.details, 'subjectCr3s');
  if (subject === undefined || squashed === undefined || corruption === undefined || foundOf === undefined || !isObj(cr3s)) return undefined;
  const ids = Object.keys(cr3s).map(Number).sort((a, b) => a - b);
  const laneOf = new Map(ids.map((id, i) => [id, i]));
  const firsts = objects(at(r.details, 'corruptions')) ?? [];
  const lanes = ids.map((id) => {
    const own = strings(cr3s[String(id)]) ?? [];
    const label = own.length === 1 ? `S${id}  ${own[0]}` : `S${id}  VM, own CR3s`;
    const frames = subject.flatMap((s, f) => (s === id ? [f] : []));
    const nSquashed = frames.filter((f) => squashed[f] === 1).length;
    const nCaught = frames.filter((f) => corruption[f] === 1).length;
    const c = firsts.find((x) => x['subject'] === id);
    const found = c !== undefined ? str(c['found']) : undefined;
    const owner = c !== undefined && typeof c['frame'] === 'number' ? foundOf[c['frame']] : null;
    const whose = owner !== null && owner !== undefined ? ` (S${owner}'s)` : '';
    const note = nCaught === 0 ? `${nSquashed} squashed, 0 caught` : `${nSquashed} squashed, ${nCaught} caught; first ${found ?? '?'}${whose}`;
    return { label, note };
  });
  const marks: LanesPanel['marks'][number][] = [];
  subject.forEach((s, f) => {
    const lane = laneOf.get(s);
    if (lane === undefined) return;
    marks.push({ lane, x: f, mark: 'ran' });
    if (squashed[f] === 1) marks.push({ lane, x: f, mark: 'squashed' });
    if (corruption[f] === 1) marks.push({ lane, x: f, mark: 'corruption' });
  });
  const n = r.headline.value;
  const sq = figure(r, 'HLT-squashed entries')?.value;
  const c0 = firsts[0];
  const logLine = (strings(at(r.details, 'errorLines')) ?? [])[0];
  const note = c0 !== undefined && logLine !== undefined
    ? `first, frame ${String(c0['frame'])}: Muen logged "${logLine.replace(/^ERROR /, '')}"; S${String(c0['subject'])}'s own CR3 is ${String(c0['expected'])}`
    : undefined;
  return {
    kind: 'lanes',
    title: `${r.variant}: ${String(n)} corruption${n === 1 ? '' : 's'} caught in ${subject.length} minor frames, ${String(sq ?? '?')} HLT-squashed entries`,
    x: { name: 'minor frame', min: 0, max: subject.length - 1 },
    lanes,
    marks,
    markNames: MARK_NAMES,
    legend: first,
    ...(note !== undefined ? { note } : {}),
    height: ids.length * LANE_PX + (first ? 112 : 88) + (note !== undefined ? 18 : 0),
  };
}

export function nvmxHltCr3Lead(rs: readonly ResultJson[], id: string): LeadFigure | undefined {
  const panels = rs.map((r, i) => panelFor(r, i === 0));
  if (panels.length === 0 || panels.some((p) => p === undefined)) return undefined;
  const notes = (panels as LanesPanel[]).flatMap((p) => p.lanes.map((l) => l.note));
  const widestNote = notes.reduce((a, b) => (b.length > a.length ? b : a), '');
  const r0 = rs[0]!;
  return {
    id, scenario: r0.scenario, arch: r0.arch, columns: 1,
    title: `Which subject ran in each minor frame, which entries were HLT-squashed, and where Muen caught a wrong CR3 — ${r0.scenario} (${r0.arch})`,
    caption: 'One lane per Muen subject, labelled with the CR3 it runs with (hex); one lane set per variant, same seed. '
      + 'Pre-fix, after a squashed entry the shared vmcs02 keeps the previous subject\'s GUEST_CR3 and Muen\'s check fires; with Muen\'s RFC or the merged fix the same entries are squashed and nothing is caught. '
      + 'The note beside each lane: its squashed entries and corruptions, and the first wrong CR3 it was handed and whose CR3 that is.',
    panels: (panels as LanesPanel[]).map((p) => ({ ...p, widestNote })),
  };
}
