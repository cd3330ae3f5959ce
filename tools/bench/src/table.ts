/**
 * `npm run bench:table -- results1.json results2.json …`: the README's performance table from
 * several `npm run bench` runs (copies of bench/results.json), each cell the range over the
 * runs — so a figure in the README is a script's output with its spread, never typed by hand.
 *
 * `--demo-line`: only the sentence on the demo's wall time and RSS. `--write`: instead of printing,
 * rewrites every block of the root and package READMEs marked
 * `<!-- bench-table:begin suites=a,b ids=x,y -->` … `<!-- bench-table:end -->` with the table of
 * the figures of those suites and ids (`suites=all`: every figure), and each
 * `<!-- bench-line:begin demo -->` … `<!-- bench-line:end -->` with the demo sentence.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Figure } from './harness.js';

interface Results {
  readonly node?: string;
  readonly date?: string;
  readonly figures: Figure[];
}

const fmt = (v: number): string => (Math.abs(v) >= 1e5 ? v.toExponential(2) : Math.abs(v) >= 100 ? v.toFixed(0) : v.toPrecision(3));
const range = (xs: readonly number[]): string => {
  const lo = Math.min(...xs);
  const hi = Math.max(...xs);
  return fmt(lo) === fmt(hi) ? fmt(lo) : `${fmt(lo)}–${fmt(hi)}`;
};

/** Where and when the runs were taken: node, dates, the machine's CPU (a figure means little without them). */
function provenance(runs: readonly Results[]): string {
  const dates = runs.map((r) => r.date).filter((d): d is string => d !== undefined).sort();
  const when = dates.length > 0 ? `, ${dates[0]!.slice(0, 16).replace('T', ' ')}${dates.length > 1 ? `–${dates.at(-1)!.slice(11, 16)}` : ''} UTC` : '';
  const cpu = cpus();
  return `${runs.length} runs of \`npm run bench\`, node ${runs[0]?.node ?? process.version}${when}, ${cpu.length}× ${cpu[0]?.model.trim() ?? 'unknown CPU'}`;
}

export function demoLine(runs: readonly Results[]): string {
  const pick = (id: string): Figure[] => runs.map((r) => r.figures.find((x) => x.id === id)).filter((x): x is Figure => x !== undefined);
  const wall = pick('demo-wall');
  const rss = pick('demo-peak-rss');
  if (wall.length === 0 || rss.length === 0) throw new Error('no demo-wall / demo-peak-rss figure in these results');
  const reps = wall.reduce((a, f) => a + (f.spread?.reps ?? 1), 0);
  const lo = (fs: Figure[]): number => Math.min(...fs.map((f) => f.spread?.min ?? f.value));
  const hi = (fs: Figure[]): number => Math.max(...fs.map((f) => f.spread?.max ?? f.value));
  return `\`npx kvmlab demo\` (seed 0, every scenario × variant and the report) takes ${range(wall.map((f) => f.value))} s wall (median of each bench run; single runs ${fmt(lo(wall))}–${fmt(hi(wall))} s) with a peak RSS of ${range(rss.map((f) => f.value))} MB (single runs ${fmt(lo(rss))}–${fmt(hi(rss))} MB): ${reps} spawned runs of the built CLI over ${runs.length} \`npm run bench\` runs (${provenance(runs).replace(/^\d+ runs of `npm run bench`, /, '')}).`;
}

/** The table of the figures `keep` selects (in the first run's order), each cell the range over the runs. */
export function table(runs: readonly Results[], keep: (f: Figure) => boolean = () => true): string {
  const lines = ['| figure | value | baseline (same run) | ratio (median of pairs) | target | verdicts |', '|---|---|---|---|---|---|'];
  for (const f of runs[0]!.figures.filter(keep)) {
    const same = runs.map((r) => r.figures.find((x) => x.id === f.id)).filter((x): x is Figure => x !== undefined);
    const value = `${range(same.map((x) => x.value))} ${f.unit}`;
    const base = f.baseline !== undefined ? `${f.baseline.description}: ${range(same.map((x) => x.baseline!.value))} ${f.baseline.unit}` : '—';
    const ratio = f.ratio !== undefined ? `${range(same.map((x) => x.ratio!))}×` : '—';
    const verdicts = same.map((x) => x.verdict ?? (x.met === undefined ? undefined : x.met ? 'met' : 'missed')).filter((v) => v !== undefined);
    lines.push(`| ${f.description} | ${value} | ${base} | ${ratio} | ${f.target ?? '—'} | ${verdicts.length > 0 ? verdicts.join(', ') : '—'} |`);
  }
  return `${lines.join('\n')}\n\n${provenance(runs)}.`;
}

/** A block's selector: `suites=a,b ids=x,y` (either may be absent; `suites=all` keeps everything). */
export function selector(spec: string): (f: Figure) => boolean {
  const attr = (name: string): string[] => (new RegExp(`${name}=([^\\s]+)`).exec(spec)?.[1] ?? '').split(',').filter((x) => x !== '');
  const suites = attr('suites');
  const ids = attr('ids');
  if (suites.length === 0 && ids.length === 0) throw new Error(`bench-table block "${spec}" names no suites= or ids=`);
  return (f) => suites.includes('all') || suites.includes(f.suite) || ids.includes(f.id);
}

/** `text` with every marked block regenerated; throws if a block selects no figure. */
export function rewriteBlocks(text: string, runs: readonly Results[]): string {
  const tables = text.replace(/(<!-- bench-table:begin ([^>]*?) -->\n)[\s\S]*?(<!-- bench-table:end -->)/g, (_m, begin: string, spec: string, end: string) => {
    const keep = selector(spec);
    if (!runs[0]!.figures.some(keep)) throw new Error(`bench-table block "${spec}": no figure in these results`);
    return `${begin}${table(runs, keep)}\n${end}`;
  });
  return tables.replace(/(<!-- bench-line:begin demo -->\n)[\s\S]*?(<!-- bench-line:end -->)/g, (_m, begin: string, end: string) => `${begin}${demoLine(runs)}\n${end}`);
}

function readmes(root: string): string[] {
  const pk = join(root, 'packages');
  return [join(root, 'README.md'), ...readdirSync(pk).map((d) => join(pk, d, 'README.md'))].filter((p) => {
    try {
      return readFileSync(p, 'utf8').includes('<!-- bench-');
    } catch {
      return false;
    }
  });
}

function main(args: readonly string[]): number {
  const demo = args.includes('--demo-line');
  const write = args.includes('--write');
  const files = args.filter((a) => !a.startsWith('--'));
  if (files.length === 0) {
    process.stderr.write('usage: bench:table [--demo-line | --write] results1.json [results2.json …]\n');
    return 2;
  }
  const runs = files.map((f) => JSON.parse(readFileSync(f, 'utf8')) as Results);
  if (demo) {
    console.log(demoLine(runs));
    return 0;
  }
  if (!write) {
    console.log(table(runs));
    return 0;
  }
  const root = fileURLToPath(new URL('../../../', import.meta.url));
  for (const p of readmes(root)) {
    const before = readFileSync(p, 'utf8');
    const after = rewriteBlocks(before, runs);
    if (after !== before) writeFileSync(p, after);
    console.log(`${after !== before ? 'updated' : 'unchanged'} ${p.slice(root.length)}`);
  }
  return 0;
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  try {
    process.exitCode = main(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`bench:table: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = 2;
  }
}
