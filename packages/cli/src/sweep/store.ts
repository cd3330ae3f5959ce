/**
 * A sweep's directory: sweep.json (the plan and the shard), runs.jsonl (one line per run),
 * summary.json / summary.txt, with --report report.html, and invocation.json (what the last
 * invocation did; not a result).
 *
 * runs.jsonl is a journal while the sweep runs: each run is appended when it finishes, in
 * whatever order the workers finish, so a sweep that is killed keeps every finished run and
 * a re-run into the same directory skips them (resume). At the end the file is rewritten in
 * grid order (the last record of an index wins), so its bytes do not depend on the number of
 * workers or on the order they finished in. Read back, the journal is trusted for nothing:
 * a line a kill cut short is cut off, a damaged one skipped, and their runs run again.
 */
import { appendFileSync, closeSync, existsSync, mkdirSync, openSync, readFileSync, renameSync, truncateSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError } from '../errors.js';
import { SCHEMA_VERSION } from '../json-output.js';
import type { RunLine, RunStatus } from './line.js';
import { gridRunAt, gridSize, planKey, type Shard, type SweepPlan } from './plan.js';

export const PLAN_FILE = 'sweep.json';
export const RUNS_FILE = 'runs.jsonl';
export const SUMMARY_JSON = 'summary.json';
export const SUMMARY_TXT = 'summary.txt';
export const REPORT_FILE = 'report.html';

export interface SweepManifest {
  readonly schemaVersion: typeof SCHEMA_VERSION;
  readonly kind: 'sweep';
  readonly plan: SweepPlan;
  /** null: the whole grid (an unsharded sweep, or a merge). */
  readonly shard: Shard | null;
  /** Runs in this directory's part of the grid. */
  readonly runs: number;
}

const manifestText = (m: SweepManifest): string => `${JSON.stringify(m, null, 2)}\n`;

export function readManifest(dir: string): SweepManifest {
  const file = join(dir, PLAN_FILE);
  if (!existsSync(file)) throw new UsageError(`${dir} is not a sweep directory (no ${PLAN_FILE})`);
  let m: SweepManifest;
  try {
    m = JSON.parse(readFileSync(file, 'utf8')) as SweepManifest;
  } catch {
    throw new UsageError(`${file} is not valid JSON`);
  }
  if (m.kind !== 'sweep' || m.schemaVersion !== SCHEMA_VERSION || typeof m.plan !== 'object') throw new UsageError(`${file} is not a kvmlab sweep (schemaVersion ${SCHEMA_VERSION})`);
  return m;
}

/** One recorded line's place in the journal. */
interface Entry {
  readonly start: number;
  readonly end: number;
  readonly status: RunStatus;
}

const STATUSES: ReadonlySet<string> = new Set<RunStatus>(['done', 'crashed', 'killed']);

/** Which runs a journal may hold: the plan's grid, or one shard of it. */
export interface JournalScope {
  readonly plan: SweepPlan;
  readonly shard?: Shard | null;
}

/**
 * The index and status of a journal line, or undefined if the text is not a whole sweep run —
 * of this scope's grid when one is given: its index in the grid (and the shard), its seed and
 * variant those of that grid position.
 */
function parseLine(text: string, scope: JournalScope | undefined): { index: number; status: RunStatus } | undefined {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof v !== 'object' || v === null) return undefined;
  const { index, status, seed, variant } = v as { index?: unknown; status?: unknown; seed?: unknown; variant?: unknown };
  if (typeof index !== 'number' || !Number.isSafeInteger(index) || index < 0 || typeof status !== 'string' || !STATUSES.has(status)) return undefined;
  if (scope !== undefined) {
    const shard = scope.shard ?? undefined;
    if (index >= gridSize(scope.plan) || (shard !== undefined && index % shard.count !== shard.index)) return undefined;
    const g = gridRunAt(scope.plan, index);
    if (seed !== g.seed || variant !== g.variant) return undefined;
  }
  return { index, status: status as RunStatus };
}

export interface Scanned {
  /** Every whole line that is a sweep run, by index (a later line of the same index wins). */
  readonly entries: ReadonlyMap<number, Entry>;
  /** End of the last whole line: bytes after it are a line cut short (the sweep was killed while writing it). */
  readonly validEnd: number;
  /** Whole lines that are not a sweep run (damaged: a disk that filled up, a crash of the machine); skipped, so their runs count as not done. */
  readonly damaged: number;
}

/** Reads a journal back, trusting nothing: a kill may cut its last line, a crash may leave garbage. */
export function scan(buf: Buffer, scope?: JournalScope): Scanned {
  const entries = new Map<number, Entry>();
  let pos = 0;
  let damaged = 0;
  while (pos < buf.length) {
    const nl = buf.indexOf(0x0a, pos);
    if (nl < 0) break;
    if (nl > pos) {
      const line = parseLine(buf.toString('utf8', pos, nl), scope);
      if (line === undefined) damaged++;
      else entries.set(line.index, { start: pos, end: nl + 1, status: line.status });
    }
    pos = nl + 1;
  }
  return { entries, validEnd: pos, damaged };
}

/** tmp file + rename: a kill leaves the old file or the new one, never half of one. */
export function writeFileAtomic(file: string, text: string): void {
  const tmp = `${file}.tmp`;
  writeFileSync(tmp, text);
  renameSync(tmp, file);
}

export interface OpenedSweep {
  /** Runs already recorded: finished and crashed runs are kept; killed runs are tried again. */
  readonly recorded: ReadonlySet<number>;
  /** Bytes of a line cut short that were cut off the journal, and damaged lines skipped. */
  readonly cutBytes: number;
  readonly damaged: number;
}

const shardName = (s: Shard | null): string => (s === null ? 'the whole grid' : `shard ${s.index}/${s.count}`);

/** Creates the directory (or checks that it holds this same sweep) and reads what is recorded there. */
export function openSweepDir(dir: string, manifest: SweepManifest): OpenedSweep {
  mkdirSync(dir, { recursive: true });
  const planFile = join(dir, PLAN_FILE);
  if (existsSync(planFile)) {
    const old = readManifest(dir);
    if (planKey(old.plan) !== planKey(manifest.plan)) throw new UsageError(`${dir} holds another sweep (${old.plan.scenario}, seeds and options as in its ${PLAN_FILE}); resume it with the same arguments or give another --out`);
    if (JSON.stringify(old.shard) !== JSON.stringify(manifest.shard)) throw new UsageError(`${dir} holds ${shardName(old.shard)} of this sweep, not ${shardName(manifest.shard)}: give each shard its own --out`);
  } else writeFileAtomic(planFile, manifestText(manifest));
  const runsFile = join(dir, RUNS_FILE);
  if (!existsSync(runsFile)) return { recorded: new Set(), cutBytes: 0, damaged: 0 };
  const buf = readFileSync(runsFile);
  const { entries, validEnd, damaged } = scan(buf, manifest);
  // The next append must start a line of its own, not finish the cut one.
  if (validEnd < buf.length) truncateSync(runsFile, validEnd);
  return { recorded: new Set([...entries].filter(([, e]) => e.status !== 'killed').map(([i]) => i)), cutBytes: buf.length - validEnd, damaged };
}

export function appendRun(dir: string, line: RunLine): void {
  appendFileSync(join(dir, RUNS_FILE), `${JSON.stringify(line)}\n`);
}

/**
 * Writes `outDir`/runs.jsonl in grid order from the journals given (later files and later
 * lines win; with a scope, only lines of its grid) and returns the indices it holds, sorted.
 */
export function writeSortedRuns(journals: readonly string[], outDir: string, scope?: JournalScope): readonly number[] {
  const bufs = journals.map((f) => (existsSync(f) ? readFileSync(f) : Buffer.alloc(0)));
  const where = new Map<number, { buf: Buffer; e: Entry }>();
  for (const buf of bufs) for (const [i, e] of scan(buf, scope).entries) where.set(i, { buf, e });
  const order = [...where.keys()].sort((a, b) => a - b);
  const out = join(outDir, RUNS_FILE);
  const tmp = `${out}.tmp`;
  const fd = openSync(tmp, 'w');
  try {
    for (const i of order) {
      const { buf, e } = where.get(i)!;
      writeSync(fd, buf, e.start, e.end - e.start);
    }
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, out);
  return order;
}

/** Calls fn with each line of a runs.jsonl, in file order. */
export function forEachRun(file: string, fn: (line: RunLine) => void): void {
  if (!existsSync(file)) return;
  const buf = readFileSync(file);
  let pos = 0;
  while (pos < buf.length) {
    const nl = buf.indexOf(0x0a, pos);
    const end = nl < 0 ? buf.length : nl;
    if (end > pos) fn(JSON.parse(buf.toString('utf8', pos, end)) as RunLine);
    pos = end + 1;
  }
}

export function writeManifest(dir: string, manifest: SweepManifest): void {
  mkdirSync(dir, { recursive: true });
  writeFileAtomic(join(dir, PLAN_FILE), manifestText(manifest));
}

/**
 * invocation.json: what the last `kvmlab sweep` into this directory did — workers asked for,
 * distinct worker threads that ran a task, runs recorded and skipped, whether it was
 * interrupted, and its wall and CPU time (all threads), so `cpuMs / wallMs` is the cores it
 * really got on a shared machine. Not part of the sweep's results (it differs from machine to
 * machine and run to run), so merge neither reads nor writes it.
 */
export interface Invocation {
  readonly workers: number;
  readonly threads: number;
  readonly ran: number;
  readonly skipped: number;
  readonly interrupted: boolean;
  /** From opening the directory to the last run (summary not included). */
  readonly wallMs: number;
  /** User + system CPU of the whole process over that time: every worker thread included. */
  readonly cpuMs: number;
}

export const INVOCATION_FILE = 'invocation.json';

export function writeInvocation(dir: string, inv: Invocation): void {
  writeFileAtomic(join(dir, INVOCATION_FILE), `${JSON.stringify(inv, null, 2)}\n`);
}
