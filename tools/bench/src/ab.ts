/**
 * `npm run bench:ab -- <base-root> <pairs> <kvmlab args…>`: the same `kvmlab` command from another
 * checkout's built CLI (the base, e.g. an unpacked `git archive` of an earlier commit, built) and
 * from this tree's, alternately — base, this, base, this … — so a slow phase of a shared machine
 * hits both sides. Each run's wall time, CPU time (user + system) and peak RSS come from the
 * child itself (peak-rss-preload.mjs); printed per pair and as ranges.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const [baseRoot, pairsArg, ...args] = process.argv.slice(2);
const pairs = Number(pairsArg);
if (baseRoot === undefined || !Number.isInteger(pairs) || pairs < 1 || args.length === 0) {
  process.stderr.write('usage: bench:ab <base-root> <pairs> <kvmlab args…>\n');
  process.exit(2);
}
const here = fileURLToPath(new URL('../../../', import.meta.url));
const preload = fileURLToPath(new URL('./peak-rss-preload.mjs', import.meta.url));

interface Run { wallS: number; cpuS: number; rssMB: number }

function once(root: string): Run {
  const dir = mkdtempSync(join(tmpdir(), 'kvmlab-ab-'));
  try {
    const file = join(dir, 'usage.json');
    const a = performance.now();
    const r = spawnSync(process.execPath, ['--import', preload, join(root, 'packages/cli/bin/kvmlab.js'), ...args], {
      cwd: dir, encoding: 'utf8', maxBuffer: 256 << 20, env: { ...process.env, NO_COLOR: '1', KVMLAB_BENCH_RSS_FILE: file },
    });
    const wallS = (performance.now() - a) / 1000;
    if (r.status !== 0 && r.status !== 1) throw new Error(`${root}: kvmlab ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
    const u = JSON.parse(readFileSync(file, 'utf8')) as { maxRssKiB: number; cpuUs: number };
    return { wallS, cpuS: u.cpuUs / 1e6, rssMB: (u.maxRssKiB * 1024) / 1e6 };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const f = (x: number): string => x.toPrecision(3);
const sides: Record<'base' | 'this', Run[]> = { base: [], this: [] };
for (let i = 0; i < pairs; i++) {
  for (const [side, root] of [['base', baseRoot], ['this', here]] as const) {
    const r = once(root);
    sides[side].push(r);
    console.log(`pair ${i + 1} ${side.padEnd(4)}: ${f(r.wallS)} s wall, ${f(r.cpuS)} s CPU, ${f(r.rssMB)} MB peak RSS`);
  }
}
const range = (xs: number[]): string => `${f(Math.min(...xs))}–${f(Math.max(...xs))}`;
for (const side of ['base', 'this'] as const) {
  const rs = sides[side];
  console.log(`${side.padEnd(4)} (${rs.length} runs): wall ${range(rs.map((r) => r.wallS))} s, CPU ${range(rs.map((r) => r.cpuS))} s, peak RSS ${range(rs.map((r) => r.rssMB))} MB`);
}
console.log(`kvmlab ${args.join(' ')}; base ${baseRoot}; node ${process.version}`);
