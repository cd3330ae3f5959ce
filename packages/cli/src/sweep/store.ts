/**
 * A sweep's directory: sweep.json (the plan and the shard), runs.jsonl (one line per run),
 * summary.json / summary.txt and, with --report, report.html.
 *
 * runs.jsonl is a journal while the sweep runs: each run is appended when it finishes, in
 * whatever order the workers finish, so a sweep that is killed keeps every finished run and
 * a re-run into the same directory skips them (resume). At the end the file is rewritten in
 * grid order (the last record of an index wins), so its bytes do not depend on the number of
 * workers or on the order they finished in.
 */
import { appendFileSync, closeSync, existsSync, ftruncateSync, mkdirSync, openSync, readFileSync, renameSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError } from '../errors.js';
import { SCHEMA_VERSION } from '../json-output.js';
import type { RunLine, RunStatus } from './line.js';
import { planKey, type Shard, type SweepPlan } from './plan.js';

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

const INDEX = /^\{"index":(\d+),/;
const STATUS = /"status":"(done|crashed|killed)"/;

/**
 * Every complete line of a journal, by index (a later line of the same index wins). A last
 * line without its newline (the sweep was killed while writing it) is ignored.
 */
function scan(buf: Buffer): { entries: Map<number, Entry>; validEnd: number } {
  const entries = new Map<number, Entry>();
  let pos = 0;
  let validEnd = 0;
  while (pos < buf.length) {
    const nl = buf.indexOf(0x0a, pos);
    if (nl < 0) break;
    const head = buf.toString('utf8', pos, Math.min(nl, pos + 32));
    const m = INDEX.exec(head);
    const s = m !== null ? STATUS.exec(buf.toString('utf8', pos, Math.min(nl, pos + 64 * 1024))) : null;
    if (m === null || s === null) throw new UsageError(`runs.jsonl: line at byte ${pos} is not a sweep run`);
    entries.set(Number(m[1]), { start: pos, end: nl + 1, status: s[1] as RunStatus });
    pos = nl + 1;
    validEnd = pos;
  }
  return { entries, validEnd };
}

/**
 * Creates the directory (or checks that it holds this same sweep) and returns the runs already
 * recorded there: finished and crashed runs are kept; killed runs are tried again.
 */
export function openSweepDir(dir: string, manifest: SweepManifest): ReadonlySet<number> {
  mkdirSync(dir, { recursive: true });
  const planFile = join(dir, PLAN_FILE);
  if (existsSync(planFile)) {
    const old = readManifest(dir);
    const same = planKey(old.plan) === planKey(manifest.plan) && JSON.stringify(old.shard) === JSON.stringify(manifest.shard);
    if (!same) throw new UsageError(`${dir} holds another sweep (${old.plan.scenario}, seeds and options as in its ${PLAN_FILE}); resume it with the same arguments or give another --out`);
  } else writeFileSync(planFile, manifestText(manifest));
  const runsFile = join(dir, RUNS_FILE);
  if (!existsSync(runsFile)) return new Set();
  const buf = readFileSync(runsFile);
  const { entries, validEnd } = scan(buf);
  if (validEnd < buf.length) {
    const fd = openSync(runsFile, 'r+');
    ftruncateSync(fd, validEnd);
    closeSync(fd);
  }
  return new Set([...entries].filter(([, e]) => e.status !== 'killed').map(([i]) => i));
}

export function appendRun(dir: string, line: RunLine): void {
  appendFileSync(join(dir, RUNS_FILE), `${JSON.stringify(line)}\n`);
}

/**
 * Writes `outDir`/runs.jsonl in grid order from the journals given (later files and later
 * lines win) and returns the indices it holds, sorted.
 */
export function writeSortedRuns(journals: readonly string[], outDir: string): readonly number[] {
  const bufs = journals.map((f) => (existsSync(f) ? readFileSync(f) : Buffer.alloc(0)));
  const where = new Map<number, { buf: Buffer; e: Entry }>();
  for (const buf of bufs) for (const [i, e] of scan(buf).entries) where.set(i, { buf, e });
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
  writeFileSync(join(dir, PLAN_FILE), manifestText(manifest));
}
