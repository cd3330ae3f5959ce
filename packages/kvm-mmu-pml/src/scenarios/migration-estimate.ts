/**
 * What a `nested-migration` run costs, from its options alone (ScenarioDef.estimate), and the
 * option combinations runMigration cannot run (ScenarioDef.checkOptions). The run does the
 * migration twice (nested L2 workload, then plain L1), one after the other.
 *
 * Memory: every page the guests touch is a 4 KiB source page and, once sent, a 4 KiB copy at
 * the destination, plus the MMU's SPTEs and rmap entries (~1 KiB a page, measured with
 * `node --expose-gc` on the default run); the dirty bitmap and one sync's page list per L1 page.
 * Events: the 1 ms guest ticks of every vCPU over the migration, each with its page writes; the
 * bulk stage's walk over L1's pages; the warm-up writes. The migration's virtual length comes from
 * the same round recurrence Precopy follows, with each round bounded by what the guests can dirty.
 */
import { ScenarioOptionError, type ScenarioEstimate, type ScenarioOptionValues } from '@kvmlab/hypervisor-core';

const PAGE = 4096;
const PAGES_PER_MIB = 256;
/** Precopy's per-page wire cost: the page plus its header; an untouched page is a 9-byte header (precopy.ts). */
const PAGE_WIRE = PAGE + 8;
const ZERO_WIRE = 9;
/** Bytes per resident page: source + destination copy + SPTE/rmap/bookkeeping. */
const BYTES_PER_TOUCHED_PAGE = 2 * PAGE + 1024;
/** Node and the model's code, before the first page (measured: `kvmlab run vmx-dirty-log` peaks at ~70 MiB RSS). */
const BASE_BYTES = 80 * 2 ** 20;

const num = (o: ScenarioOptionValues, k: string): number => o[k] as number;

/** The combinations runMigration refuses, as option errors (before any memory is allocated). */
export function checkMigrationOptions(o: ScenarioOptionValues): void {
  const l1MiB = num(o, 'l1GiB') * 1024;
  const l2MiB = num(o, 'l2MiB');
  if (l2MiB % 2 !== 0) throw new ScenarioOptionError('l2MiB', l2MiB, 'must be a multiple of 2 (L2 is placed in 2 MiB chunks)');
  // L2 sits from 1 GiB, or after the 16 MiB + 1 MiB kernel of a small L1 (migration-run.ts).
  const kernelMiB = l1MiB >= 1024 ? 32 : 1;
  const base = l1MiB >= 1024 + l2MiB ? 1024 : 16 + kernelMiB;
  if (base + l2MiB > l1MiB) throw new ScenarioOptionError('l2MiB', l2MiB, `does not fit in L1 (${o['l1GiB']} GiB) after its kernel: need l2MiB ≤ ${l1MiB - base}`);
  if (num(o, 'wssMiB') > l2MiB) throw new ScenarioOptionError('wssMiB', o['wssMiB'], `must be ≤ l2MiB (${l2MiB})`);
  if (num(o, 'hotMiB') > num(o, 'wssMiB')) throw new ScenarioOptionError('hotMiB', o['hotMiB'], `must be ≤ wssMiB (${o['wssMiB']})`);
}

export function estimateMigration(o: ScenarioOptionValues): ScenarioEstimate {
  const l1Pages = num(o, 'l1GiB') * 1024 * PAGES_PER_MIB;
  const l2Pages = num(o, 'l2MiB') * PAGES_PER_MIB;
  const wssPages = num(o, 'wssMiB') * PAGES_PER_MIB;
  const kernelPages = (num(o, 'l1GiB') >= 1 ? 32 : 1) * PAGES_PER_MIB;
  const tablePages = Math.ceil(l2Pages / 512) + 2; // EPT12: one 4 KiB table per 2 MiB of L2
  const hotPages = num(o, 'hotMiB') * PAGES_PER_MIB;
  const vcpus = num(o, 'vcpus');
  const bw = num(o, 'bandwidthMBps') * 1e6;
  const l2Rate = num(o, 'writesPerSec') * vcpus;
  const l1Rate = num(o, 'l1WritesPerSec') * vcpus;
  const pagesPerSec = l2Rate + l1Rate;
  const hot = num(o, 'hotFraction');
  const touched = kernelPages + wssPages + tablePages;
  // Distinct pages the guests can dirty in t seconds, counting every write as a new page up to
  // the size of the set it goes to (hot part, rest of the working set, L1's kernel): an upper bound.
  const dirtied = (t: number): number =>
    Math.min(hotPages, hot * l2Rate * t) + Math.min(wssPages - hotPages, (1 - hot) * l2Rate * t) + Math.min(kernelPages, l1Rate * t);
  // Round 1: every touched page plus a header per untouched one; then each round sends what the
  // guests dirtied during the last, until it fits the downtime budget or the round limit.
  let roundS = (touched * PAGE_WIRE + (l1Pages - touched) * ZERO_WIRE) / bw;
  let seconds = roundS;
  const downtimeS = num(o, 'downtimeMs') / 1e3;
  for (let r = 2; r <= num(o, 'maxRounds'); r++) {
    const pages = dirtied(roundS);
    roundS = (pages * PAGE_WIRE) / bw;
    if (roundS <= downtimeS) break;
    seconds += roundS;
  }
  seconds += 0.01 + roundS; // the 10 ms before it starts, and stop-and-copy
  const ticks = Math.ceil(seconds * 1000) * vcpus;
  // A guest page write is ~10 model events (the store, the EPT12 walk, an EPT violation or PML
  // entry, the exit and the VMRESUME); calibrated: default, --bandwidth-mbps 20, --vcpus 4 and
  // --writes-per-sec 400000 ran 9.7, 312, 172 and 445 s, 1.2–1.6 µs per event (one core, Node 20).
  const perRun = ticks * (1 + (10 * pagesPerSec) / vcpus / 1000) + l1Pages / 64 + touched * 10 + l2Pages / 8;
  return {
    memoryBytes: BASE_BYTES + touched * BYTES_PER_TOUCHED_PAGE + l1Pages / 8 * 3 + Math.min(touched, pagesPerSec * seconds) * 64,
    events: 2 * perRun,
  };
}
