/**
 * Differential conformance: the same ABI scripts on the kernel (live, or its recorded answers)
 * and on hypervisor-core's model following that kernel's era, compared step by step.
 */
import type { KernelLimits, Plugin } from '@kvmlab/hypervisor-core';
import { isAvailable } from '../available.js';
import { eraFor, kvmclockEraFor, loadFixtures, recordKernel, runScript, saveFixture, saveFixtureTo, type KernelFixture, type MachineFacts } from './fixture.js';
import { describeKvmclockCall } from './kvmclock-port.js';
import { ModelTarget, type KvmclockModel } from './model-target.js';
import { formatResult, type Script, type Step, type StepResult } from './script.js';
import { capsScript, memslotScript } from './scripts-caps-memslots.js';
import { clearDirtyLogScript, getDirtyLogScript, initiallySetScript, loggingToggleScript } from './scripts-dirty.js';
import { KVMCLOCK_SCRIPTS } from './scripts-kvmclock.js';

/** Every built-in script, in the order the table shows them. */
export const SCRIPTS: readonly Script[] = [
  capsScript,
  memslotScript,
  getDirtyLogScript,
  clearDirtyLogScript,
  initiallySetScript,
  loggingToggleScript,
  ...KVMCLOCK_SCRIPTS,
];

export interface ConformanceRow {
  readonly script: string;
  readonly index: number;
  /** The step, in short. */
  readonly step: string;
  readonly kernel: string;
  readonly model: string;
  /** 'era': a documented difference between kernel eras (the step's `era` note). */
  readonly match: 'yes' | 'no' | 'era';
  readonly era?: string;
}

/** A step not compared, and why (TAP's `# SKIP`). */
export interface SkippedStep {
  readonly script: string;
  readonly index: number;
  readonly step: string;
  readonly reason: string;
}

export interface ConformanceReport {
  readonly uname: string;
  readonly source: 'live' | 'fixture';
  /** The model's kernel option. */
  readonly era: KernelLimits;
  readonly rows: readonly ConformanceRow[];
  readonly counts: { readonly steps: number; readonly match: number; readonly era: number; readonly mismatch: number };
  /** Steps of scripts the recording lacks, or that need a kvmclock model none was given for. */
  readonly skipped: readonly SkippedStep[];
  /** Set when `record` wrote a fixture. */
  readonly recordedTo?: string;
}

export interface ConformanceOptions {
  /** Run the live kernel (throws if /dev/kvm is unusable); otherwise use the recording. */
  readonly live?: boolean;
  /** Save the live kernel's answers as a fixture (implies live): to `recordTo`, else into `fixtureDir`. */
  readonly record?: boolean;
  /** The file `record` writes (its folder must exist); implies `record`. `kvmlab conform --record <file>` sets it. */
  readonly recordTo?: string;
  readonly scripts?: readonly Script[];
  /** A recording to use instead of the newest fixture on disk. */
  readonly fixture?: KernelFixture;
  /** Where fixtures live (default: the package's fixtures/). */
  readonly fixtureDir?: string;
  /** x86 plugins to install in the model (e.g. `kvmMmuPml()`), a fresh set per script. */
  readonly plugins?: () => readonly Plugin[];
  /** The kvmclock model the `kvmclock-*` scripts need (ptp-kvm-x86's plugin and host API). */
  readonly kvmclock?: KvmclockModel;
}

/** A step in a few words, for the table. */
export function describeStep(s: Step): string {
  switch (s.op) {
    case 'checkExtension':
      return `CHECK_EXTENSION(${s.on}) ${s.name ?? s.cap}`;
    case 'enableCap':
      return `ENABLE_CAP ${s.cap} args=[${(s.args ?? []).join(',')}]${s.flags ? ` flags=${s.flags}` : ''}`;
    case 'setMemslot':
      return `SET_USER_MEMORY_REGION slot=${s.slot} flags=${s.flags} gpa=${s.gpa} size=${s.size}`;
    case 'createVcpu':
      return `CREATE_VCPU ${s.id}`;
    case 'guestWrite':
      return `guest writes ${s.pages !== undefined ? `pages ${s.pages.list} of ${s.pages.base}` : ''}${(s.writes ?? []).map((w) => `${w.hex.length / 2}B@${w.gpa}`).join(' ')}`;
    case 'getDirtyLog':
      return `GET_DIRTY_LOG slot=${s.slot}`;
    case 'clearDirtyLog':
      return `CLEAR_DIRTY_LOG slot=${s.slot} first=${s.firstPage} n=${s.numPages} bits=${s.bits ?? 'NULL'}`;
    case 'readMemory':
      return `read ${s.length}B@${s.gpa}`;
    case 'kvmclock':
      return describeKvmclockCall(s.call);
  }
}

/** What the model needs to know of the recorded machine and kernel. */
export interface ModelContext {
  readonly uname: string;
  readonly machine: MachineFacts;
  readonly plugins?: () => readonly Plugin[];
  readonly kvmclock?: KvmclockModel;
}

function modelFor(script: Script, era: KernelLimits, ctx: ModelContext): ModelTarget | string {
  const plugins = ctx.plugins?.() ?? [];
  if (script.needs !== 'kvmclock') return new ModelTarget(era, 0, plugins);
  const k = ctx.kvmclock;
  if (k === undefined) return 'no kvmclock model was given (ConformanceOptions.kvmclock)';
  const m = ctx.machine;
  if (m.tscKhz === undefined) return `the recording of ${ctx.uname} has no host TSC rate`;
  const host = { counterHz: BigInt(m.tscKhz) * 1000n, clocksource: m.clocksource ?? 'tsc' };
  const kp = k.plugins({ era: kvmclockEraFor(ctx.uname), tscControl: (m.tscControl ?? 0) !== 0 });
  return new ModelTarget(era, 0, [...plugins, ...kp], { host, kvmclock: (hv) => k.vmm(hv) });
}

/** Compares kernel answers with a fresh model run of each script. */
export function compareWithModel(
  scripts: readonly Script[],
  kernel: Readonly<Record<string, readonly StepResult[]>>,
  era: KernelLimits,
  plugins: (() => readonly Plugin[]) | ModelContext = () => [],
  skipped: SkippedStep[] = [],
): ConformanceRow[] {
  const ctx: ModelContext = typeof plugins === 'function' ? { uname: '', machine: { apiVersion: 12, nrVcpus: 0, multiAddressSpace: 0 }, plugins } : plugins;
  const rows: ConformanceRow[] = [];
  for (const script of scripts) {
    const k = kernel[script.name];
    const target = k === undefined ? `the recording has no "${script.name}" script` : modelFor(script, era, ctx);
    if (typeof target === 'string' || k === undefined) {
      script.steps.forEach((step, index) => skipped.push({ script: script.name, index, step: describeStep(step), reason: typeof target === 'string' ? target : 'no recording' }));
      continue;
    }
    const m = runScript(target, script);
    script.steps.forEach((step, index) => {
      const ks = k[index] === undefined ? '(not recorded)' : formatResult(k[index]);
      const ms = formatResult(m[index]!);
      const match = ks === ms ? 'yes' : step.era !== undefined ? 'era' : 'no';
      rows.push({ script: script.name, index, step: describeStep(step), kernel: ks, model: ms, match, ...(step.era !== undefined && match === 'era' ? { era: step.era } : {}) });
    });
  }
  return rows;
}

/** Runs the conformance table: the library call behind `kvmlab conform [--live] [--record]`. */
export function runConformance(opts: ConformanceOptions = {}): ConformanceReport {
  const scripts = opts.scripts ?? SCRIPTS;
  let fixture: KernelFixture;
  let source: 'live' | 'fixture';
  let recordedTo: string | undefined;
  const record = opts.record === true || opts.recordTo !== undefined;
  if (opts.live === true || record) {
    const a = isAvailable();
    if (!a.ok) throw new Error(`live conformance needs /dev/kvm: ${a.reason}`);
    fixture = recordKernel(scripts);
    source = 'live';
    if (opts.recordTo !== undefined) recordedTo = saveFixtureTo(fixture, opts.recordTo);
    else if (record) recordedTo = saveFixture(fixture, opts.fixtureDir);
  } else {
    const f = opts.fixture ?? loadFixtures(opts.fixtureDir).at(-1);
    if (f === undefined) throw new Error('no recorded kernel fixture; run with live or record');
    fixture = f;
    source = 'fixture';
  }
  const era = eraFor(fixture.uname, fixture.machine);
  const skipped: SkippedStep[] = [];
  const rows = compareWithModel(scripts, fixture.results, era, { uname: fixture.uname, machine: fixture.machine, ...(opts.plugins !== undefined ? { plugins: opts.plugins } : {}), ...(opts.kvmclock !== undefined ? { kvmclock: opts.kvmclock } : {}) }, skipped);
  const count = (m: ConformanceRow['match']): number => rows.filter((r) => r.match === m).length;
  return {
    uname: fixture.uname,
    source,
    era,
    rows,
    counts: { steps: rows.length, match: count('yes'), era: count('era'), mismatch: count('no') },
    skipped,
    ...(recordedTo !== undefined ? { recordedTo } : {}),
  };
}

/** Records the live kernel's answers as a fixture; returns its path. */
export function recordFixture(opts: { scripts?: readonly Script[]; dir?: string } = {}): string {
  const a = isAvailable();
  if (!a.ok) throw new Error(`recording needs /dev/kvm: ${a.reason}`);
  return saveFixture(recordKernel(opts.scripts ?? SCRIPTS), opts.dir);
}

/** The report as a plain-text side-by-side table. */
export function formatConformanceTable(r: ConformanceReport): string {
  const lines = [`kernel ${r.uname} (${r.source}) vs model (kernel era ${r.era.name})`];
  let last = '';
  for (const row of r.rows) {
    if (row.script !== last) lines.push('', `## ${row.script}`);
    last = row.script;
    const mark = row.match === 'yes' ? 'ok ' : row.match === 'era' ? 'era' : 'XX ';
    lines.push(`${mark} ${String(row.index).padStart(2)} ${row.step}\n       kernel: ${row.kernel}\n       model:  ${row.model}${row.era ? `\n       era:    ${row.era}` : ''}`);
  }
  lines.push('', `${r.counts.steps} steps: ${r.counts.match} match, ${r.counts.era} known era differences, ${r.counts.mismatch} mismatches`);
  return lines.join('\n');
}
