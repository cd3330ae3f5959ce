/**
 * Scenario `nvmx-hlt-cr3`: the Muen-like L1 round-robins its subjects with HLT exiting off.
 * Linux 5.3 hands a squashed subject another subject's CR3 at the next nested exit and
 * Muen's check logs it; the RFC and the merged fix do not; without EPT nothing does.
 */
import { EXIT_REASON_NAMES, type ScenarioDef, type ScenarioFigure, type ScenarioResult, type ScenarioRunInput } from '@kvmlab/hypervisor-core';
import { ada } from '../guest/muen.js';
import { NVMX_VARIANTS, type NvmxVariant } from '../host/guest-cr3.js';
import { nvmxHltCr3Randomize } from './nvmx-hlt-cr3-randomize.js';
import { runNvmxHltCr3 } from './run-muen.js';

export type { NvmxHltCr3Options } from './run-muen.js';
export { runNvmxHltCr3 };

const per = (n: number, d: number): number => (d === 0 ? 0 : Math.round((n / d) * 100) / 100);

function run(input: ScenarioRunInput): ScenarioResult {
  const variant = input.variant as NvmxVariant;
  if (!NVMX_VARIANTS.includes(variant)) throw new RangeError(`nvmx-hlt-cr3: unknown variant "${input.variant}"`);
  const o = input.options;
  const r = runNvmxHltCr3({
    variant, seed: input.seed, frames: Number(o['frames']), enableEpt: o['enableEpt'] === true,
    onCorruption: o['onCorruption'] === 'halt' ? 'halt' : 'repair', tickUs: Number(o['tickUs']), irqPerMs: Number(o['irqPerMs']),
    trace: input.trace === true,
  });
  input.onProgress?.(1);
  const s = r.stats;
  const exits = Object.values(s.nestedExits).reduce((a, b) => a + b, 0);
  const exitsByReason = Object.fromEntries(Object.entries(s.nestedExits).map(([k, v]) => [`${k} ${EXIT_REASON_NAMES.get(Number(k)) ?? ''}`.trim(), v]));
  const n = r.corruptions.length;
  const figures: ScenarioFigure[] = [
    { label: 'CR3 corruptions detected by Muen', value: n },
    { label: 'minor frames run', value: r.framesRun },
    { label: 'nested VM entries', value: s.nestedEntries },
    { label: 'HLT-squashed entries', value: s.squashedEntries },
    { label: 'nested VM exits', value: exits },
    ...Object.entries(exitsByReason).map(([k, v]) => ({ label: `nested exits, reason ${k}`, value: v })),
    { label: 'VMREAD per nested entry (vmcs01+vmcs02)', value: per(s.entryVmreads, s.nestedEntries) },
    { label: 'VMWRITE per nested entry', value: per(s.entryVmwrites, s.nestedEntries) },
    { label: 'GUEST_CR3 VMREAD per nested entry', value: per(s.entryCr3Vmreads, s.nestedEntries) },
    { label: 'GUEST_CR3 VMWRITE per nested entry', value: per(s.entryCr3Vmwrites, s.nestedEntries) },
    { label: 'VMREAD per nested exit', value: per(s.exitVmreads, exits) },
    { label: 'VMWRITE per nested exit', value: per(s.exitVmwrites, exits) },
    { label: 'GUEST_CR3 VMREAD per nested exit', value: per(s.exitCr3Vmreads, exits) },
    { label: 'GUEST_CR3 VMWRITE per nested exit', value: per(s.exitCr3Vmwrites, exits) },
    { label: 'virtual time', value: Number(r.simNs) / 1e6, unit: 'ms' },
  ];
  const first = r.corruptions[0];
  const summary = n > 0
    ? `${n} CR3 corruption${n === 1 ? '' : 's'} detected by Muen's check; first: subject ${first?.subject ?? '?'} got ${ada(first?.found ?? 0n, 16)} (exit ${ada(BigInt(first?.exitReason ?? 0), 4)})`
    : `no CR3 corruption in ${r.framesRun} minor frames (${s.squashedEntries} HLT-squashed entries)`;
  const x = r.frames.map((_, i) => i);
  const y: Record<string, (number | null)[]> = { 'vmcs02.GUEST_CR3': r.frames.map((f) => Number(f.vmcs02Cr3)) };
  r.subjects.forEach((id, i) => {
    y[`S${id} vmcs12.guest_cr3`] = r.frames.map((f) => Number(f.vmcs12Cr3[i] ?? 0n));
  });
  const bad = new Map(r.corruptions.map((c) => [c.frame, Number(c.found)]));
  y['corruption detected'] = r.frames.map((_, i) => bad.get(i) ?? null);
  y['squashed entry'] = r.frames.map((f) => (f.squashed ? Number(f.vmcs02Cr3) : null));
  const hex = (v: bigint): string => `0x${v.toString(16)}`;
  // Whose CR3 a wrong value is (another subject's PML4 or VM load), from the system image.
  const ownerOf = (cr3: bigint): number | null => r.subjects.find((_, i) => r.subjectCr3s[i]?.includes(cr3)) ?? null;
  const foundCr3Of = new Map(r.corruptions.map((c) => [c.frame, ownerOf(c.found)]));
  // Muen logs one "CR3 of subject … changed" line per corruption it records, in the same order.
  const cr3Lines = r.log.filter((l) => l.startsWith('ERROR CR3 of subject'));
  const checkLine = new Map(r.corruptions.map((c, i) => [c.frame, cr3Lines[i] ?? null]));
  return {
    scenario: 'nvmx-hlt-cr3', variant, arch: 'x86_64', seed: input.seed,
    verdict: n > 0 ? 'bug-reproduced' : 'ok',
    summary,
    headline: { label: 'CR3 corruptions detected', value: n },
    figures,
    series: [{
      name: 'cr3-timeline', title: `CR3 per minor frame (${variant}${o['enableEpt'] === true ? '' : ', EPT off'})`,
      xLabel: 'minor frame', yLabel: 'CR3 value', x, y, kind: 'scatter',
      caption: 'After each nested exit: the CR3 in the one shared vmcs02, each subject\'s vmcs12.guest_cr3, frames whose entry was HLT-squashed, and where Muen\'s check fired.',
    }],
    details: {
      log: r.log.slice(0, 40),
      errorLines: r.log.filter((l) => l.startsWith('ERROR')).slice(0, 20),
      corruptions: r.corruptions.slice(0, 50).map((c) => ({ frame: c.frame, subject: c.subject, expected: `0x${c.expected.toString(16)}`, found: `0x${c.found.toString(16)}`, exitReason: c.exitReason })),
      nestedExitsByReason: exitsByReason,
      l0ExitsByReason: { ...s.l0Exits },
      l2InterruptsInjected: s.l2Interrupts,
      halted: r.halted,
      // Per minor frame (index = frame): the subject scheduled, whether its entry was
      // HLT-squashed (1), whether Muen's check fired after it (1), and then whose CR3 it found
      // (a subject id; null when the check did not fire or the value is no subject's).
      frames: {
        subject: r.frames.map((f) => f.subject),
        squashed: r.frames.map((f) => (f.squashed ? 1 : 0)),
        corruption: r.frames.map((_, i) => (bad.has(i) ? 1 : 0)),
        foundCr3Of: r.frames.map((_, i) => foundCr3Of.get(i) ?? null),
        // Added for the playground's step-through (issue 19): the reason of the nested exit
        // that ended the frame, and the line Muen logged when its check fired (else null).
        exitReason: r.frames.map((f) => f.exitReason),
        muenLog: r.frames.map((_, i) => checkLine.get(i) ?? null),
      },
      // The CR3 values each subject runs with (a native subject's PML4, a VM subject's own loads).
      subjectCr3s: Object.fromEntries(r.subjects.map((id, i) => [String(id), (r.subjectCr3s[i] ?? []).map(hex)])),
    },
    ...(input.trace === true ? { trace: r.trace } : {}),
  };
}

export const nvmxHltCr3: ScenarioDef = {
  name: 'nvmx-hlt-cr3',
  description: 'Muen-like L1 with HLT exiting off: stale vmcs02.GUEST_CR3 after a HLT-squashed nested VM-Enter',
  arches: ['x86_64'],
  variants: ['pre-fix', 'rfc-muen', 'merged'],
  defaultVariant: 'merged',
  package: '@kvmlab/nvmx-cr3',
  randomize: nvmxHltCr3Randomize,
  options: {
    frames: { type: 'number', default: 220, min: 1, max: 100_000, integer: true, description: 'minor frames (scheduler ticks) to run' },
    enableEpt: { type: 'boolean', default: true, description: 'L0 kvm_intel.ept (without EPT the bug cannot happen)' },
    onCorruption: { type: 'enum', default: 'repair', values: ['repair', 'halt'], description: "what Muen does after its check fires: restore the CR3 and go on, or halt the CPU as in the report" },
    tickUs: { type: 'number', default: 100, min: 5, max: 100_000, unit: 'µs', description: 'scheduler tick (VMX-preemption timer per minor frame)' },
    irqPerMs: { type: 'number', default: 2, min: 0, max: 1000, unit: '1/ms', description: 'mean rate of device interrupts (external-interrupt exits)' },
  },
  // Each minor frame is a nested exit and entry with Muen's scheduling and VMREAD/VMWRITE work,
  // weighted 1500 events, plus the tick's device interrupts (an exit to L1 and back each), and
  // ~4 KiB of per-frame record. Calibrated: --frames 100000 took 216 s and 427 MB RSS (Node 20).
  estimate: (o) => {
    const frames = o['frames'] as number;
    const irqs = ((o['irqPerMs'] as number) * (o['tickUs'] as number)) / 1000;
    return { memoryBytes: 80 * 2 ** 20 + frames * 4096, events: frames * (1500 + 100 * irqs) };
  },

  run,
};
