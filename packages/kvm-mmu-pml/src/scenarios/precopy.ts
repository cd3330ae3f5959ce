/**
 * A QEMU-like pre-copy live migration of one RAM slot (migration/ram.c, 2019): start dirty
 * logging, send every page once (the bulk stage), then rounds of KVM_GET_DIRTY_LOG → send the
 * dirty pages at a modelled bandwidth, until what is left fits the downtime budget (or a round
 * limit), then stop the guest and copy the rest. The destination is a separate sparse page map;
 * at the end it is compared page by page with the source.
 */
import { bitmapPages, KVM_MEM_LOG_DIRTY_PAGES, PAGE_BYTES, type Memslot, type Vm } from '@kvmlab/hypervisor-core';
import { DestPages } from './dest-pages.js';
import { PageSet } from './page-set.js';

export interface PrecopyOptions {
  readonly bandwidthBytesPerSec: number;
  readonly downtimeNs: bigint;
  readonly maxRounds: number;
  /** Bytes on the wire for a zero page (QEMU: 8-byte header + 1 byte) and a normal page. */
  readonly zeroPageBytes?: number;
  readonly pageBytes?: number;
  /** The sender works in slices of this much virtual time. */
  readonly sliceNs?: bigint;
  /**
   * vm_stop() for guests whose vCPUs stop only at their next exit to userspace: asks them to
   * stop and calls `whenStopped` once every vCPU has (QEMU's pause_all_vcpus() waits the same
   * way); the last dirty-log sync and the copy come after. Without it, the constructor's
   * `pauseGuest` stops the guest at once.
   */
  readonly stopGuest?: (whenStopped: () => void) => void;
  /**
   * The guest-side oracle: the gfns the guest really wrote since the previous call. Given, every
   * sync calls it and records, next to what the dirty log reported, how many pages were really
   * written in that interval and how many of those the log did not report. Any collection of
   * distinct gfns with a size will do (a ReadonlySet, the scenario's PageSet).
   */
  readonly writtenSinceLastSync?: () => PageNumbers;
}

/** Distinct gfns and how many there are: what the oracle hands a sync (it is read once, then may be reused). */
export interface PageNumbers extends Iterable<number> {
  readonly size: number;
}

/** At one sync, with the oracle: pages really written since the previous sync, and of those the ones the log missed. */
export interface WrittenAtSync {
  readonly pagesWritten: number;
  readonly writtenNotReported: number;
}

export interface RoundRecord {
  readonly round: number;
  readonly pagesSent: number;
  readonly bytesSent: number;
  readonly durationMs: number;
  /** Pages the dirty log reported at the sync that ended this round. */
  readonly dirtyPagesAtSync: number;
  /** That, per second since the previous sync, in MB/s (what query-dirty-rate would show). */
  readonly dirtyRateMBps: number;
  /** With `writtenSinceLastSync`: pages really written during the round, and of those not reported at its sync. */
  readonly pagesWritten?: number;
  readonly writtenNotReported?: number;
}

export interface PrecopyResult {
  readonly rounds: readonly RoundRecord[];
  readonly converged: boolean;
  readonly stopCopyPages: number;
  readonly downtimeMs: number;
  readonly totalPagesSent: number;
  readonly totalBytes: number;
  readonly migrationMs: number;
  /** Pages whose destination content differs from the source after the switch-over. */
  readonly pagesLost: number;
  readonly lostGfns: readonly number[];
  readonly pagesCompared: number;
  /** With `writtenSinceLastSync`: the last sync (guest stopped) — pages it reported, pages written since the round before. */
  readonly stopCopySync?: WrittenAtSync & { readonly pagesReported: number };
}

export class Precopy {
  /** The destination's memory: gfn → the page as last sent (read-only map of whole pages). */
  readonly dest = new DestPages();
  private readonly rounds: RoundRecord[] = [];
  private readonly o: Required<Omit<PrecopyOptions, 'stopGuest' | 'writtenSinceLastSync'>>;
  private readonly stopGuest: ((whenStopped: () => void) => void) | undefined;
  private readonly writtenSinceLastSync: (() => PageNumbers) | undefined;
  /** The gfns a sync reported, as a set for the oracle's check (one table, reused every sync). */
  private readonly reportedGfns = new PageSet();
  private started = 0n;
  private lastSync = 0n;
  private totalPages = 0;
  private totalBytes = 0;
  result: PrecopyResult | undefined;

  constructor(readonly vm: Vm, readonly slot: Memslot, opts: PrecopyOptions, private readonly pauseGuest: () => void) {
    const { stopGuest, writtenSinceLastSync, ...rest } = opts;
    this.o = { zeroPageBytes: 9, pageBytes: PAGE_BYTES + 8, sliceNs: 1_000_000n, ...rest };
    this.stopGuest = stopGuest;
    this.writtenSinceLastSync = writtenSinceLastSync;
  }

  private get slotArg(): number {
    return (this.slot.asId << 16) | this.slot.id;
  }

  private sendPage(page: number): number {
    const src = this.slot.backing.pageAt(page);
    const gfn = this.slot.baseGfnNumber + page;
    if (src === undefined) {
      this.dest.delete(gfn);
      return this.o.zeroPageBytes;
    }
    // buffer_is_zero() and the copy in one pass: a zero page is dropped at the destination.
    return this.dest.receive(gfn, src) ? this.o.pageBytes : this.o.zeroPageBytes;
  }

  private nsFor(bytes: number): bigint {
    return BigInt(Math.ceil((bytes / this.o.bandwidthBytesPerSec) * 1e9));
  }

  /** ram_save_setup(): dirty logging on, the first sync, then the bulk stage. */
  start(): void {
    const sim = this.vm.hv.sim;
    this.started = sim.now;
    this.vm.setUserMemoryRegion({ slot: this.slotArg, flags: this.slot.flags | KVM_MEM_LOG_DIRTY_PAGES, guestPhysAddr: this.slot.baseGpa, memorySize: this.slot.sizeBytes });
    this.vm.getDirtyLog(this.slotArg);
    this.writtenSinceLastSync?.(); // the oracle's interval starts with the log's
    this.lastSync = sim.now;
    this.bulkPass();
  }

  /**
   * The bulk stage: every page once, in order. Runs of untouched pages cost only their
   * zero-page headers and are skipped in O(1); a page first written after logging started is
   * dirty in the log and goes in a later round (the destination starts empty).
   */
  private bulkPass(): void {
    const sim = this.vm.hv.sim;
    const t0 = sim.now;
    const npages = this.slot.npages;
    const zero = this.o.zeroPageBytes;
    const resident = this.slot.backing.residentIndices();
    const sliceBytes = this.sliceBytes;
    let cursor = 0;
    let ri = 0;
    let bytes = 0;
    const step = (): void => {
      let b = 0;
      while (cursor < npages && b < sliceBytes) {
        const nextResident = ri < resident.length ? resident[ri]! : npages;
        if (cursor < nextResident) {
          const n = Math.min(nextResident - cursor, Math.ceil((sliceBytes - b) / zero));
          b += n * zero;
          cursor += n;
        } else {
          b += this.sendPage(cursor++);
          ri++;
        }
      }
      bytes += b;
      sim.after(this.nsFor(b), () => (cursor < npages ? step() : this.endRound(1, npages, bytes, sim.now - t0)));
    };
    step();
  }

  private get sliceBytes(): number {
    return Math.max(1, Math.floor((this.o.bandwidthBytesPerSec * Number(this.o.sliceNs)) / 1e9));
  }

  /** Sends `pages` in slices of virtual time, then syncs. */
  private pass(pages: { length: number; at: (i: number) => number }, round: number): void {
    const sim = this.vm.hv.sim;
    const t0 = sim.now;
    const sliceBytes = this.sliceBytes;
    let i = 0;
    let sent = 0;
    let bytes = 0;
    const step = (): void => {
      let b = 0;
      while (i < pages.length && b < sliceBytes) {
        b += this.sendPage(pages.at(i++));
        sent++;
      }
      bytes += b;
      sim.after(this.nsFor(b), () => (i < pages.length ? step() : this.endRound(round, sent, bytes, sim.now - t0)));
    };
    step();
  }

  private sync(): number[] {
    const bm = this.vm.getDirtyLog(this.slotArg);
    return bitmapPages(bm).filter((p) => p < this.slot.npages);
  }

  /** The oracle against what a sync reported (slot page indices), if there is an oracle. */
  private writtenAt(reported: readonly number[]): WrittenAtSync | undefined {
    const written = this.writtenSinceLastSync?.();
    if (written === undefined) return undefined;
    const seen = this.reportedGfns;
    seen.clear();
    for (const p of reported) seen.add(this.slot.baseGfnNumber + p);
    let missed = 0;
    for (const gfn of written) if (!seen.has(gfn)) missed++;
    return { pagesWritten: written.size, writtenNotReported: missed };
  }

  private endRound(round: number, sent: number, bytes: number, dur: bigint): void {
    const sim = this.vm.hv.sim;
    this.totalPages += sent;
    this.totalBytes += bytes;
    const dirty = this.sync();
    const truth = this.writtenAt(dirty);
    const since = Number(sim.now - this.lastSync) / 1e9;
    this.lastSync = sim.now;
    this.rounds.push({
      round,
      pagesSent: sent,
      bytesSent: bytes,
      durationMs: Number(dur) / 1e6,
      dirtyPagesAtSync: dirty.length,
      dirtyRateMBps: since > 0 ? (dirty.length * PAGE_BYTES) / since / 1e6 : 0,
      ...(truth !== undefined ? truth : {}),
    });
    const tr = this.vm.hv.trace;
    if (tr.enabled) {
      tr.slice('migration', `round ${round}`, sim.now - dur, dur, { pagesSent: sent, bytes });
      tr.counter('migration', 'dirty pages at sync', sim.now, dirty.length);
    }
    const pendingNs = this.nsFor(dirty.length * this.o.pageBytes);
    const converged = pendingNs <= this.o.downtimeNs;
    if (converged || round >= this.o.maxRounds) return this.stopAndCopy(dirty, converged);
    this.pass({ length: dirty.length, at: (k) => dirty[k]! }, round + 1);
  }

  /** migration_completion(): stop the vCPUs, take the last dirty log, copy the rest. */
  private stopAndCopy(pending: readonly number[], converged: boolean): void {
    if (this.stopGuest !== undefined) this.stopGuest(() => this.copyStopped(pending, converged));
    else {
      this.pauseGuest();
      this.copyStopped(pending, converged);
    }
  }

  /** With the guest stopped: the last sync, the remaining pages, and the page-by-page comparison. */
  private copyStopped(pending: readonly number[], converged: boolean): void {
    const sim = this.vm.hv.sim;
    const last = new Set(pending);
    const reported = this.sync();
    const truth = this.writtenAt(reported);
    for (const p of reported) last.add(p);
    let bytes = 0;
    for (const p of last) bytes += this.sendPage(p);
    const downtime = this.nsFor(bytes);
    this.totalPages += last.size;
    this.totalBytes += bytes;
    const tr = this.vm.hv.trace;
    if (tr.enabled) tr.slice('migration', 'stop-and-copy (downtime)', sim.now, downtime, { pages: last.size });
    const { lost, compared } = this.compare();
    this.result = {
      rounds: this.rounds,
      converged,
      stopCopyPages: last.size,
      downtimeMs: Number(downtime) / 1e6,
      totalPagesSent: this.totalPages,
      totalBytes: this.totalBytes,
      migrationMs: Number(sim.now + downtime - this.started) / 1e6,
      pagesLost: lost.length,
      lostGfns: lost.slice(0, 32),
      pagesCompared: compared,
      ...(truth !== undefined ? { stopCopySync: { pagesReported: reported.length, ...truth } } : {}),
    };
  }

  /** Page-by-page comparison of destination and source (untouched pages are zeros on both). */
  private compare(): { lost: number[]; compared: number } {
    const base = this.slot.baseGfnNumber;
    const backing = this.slot.backing;
    const lost: number[] = [];
    // Every source page that was ever written (ascending), then the destination's pages the
    // source never materialised (they must read as zeros there too): the union, each once.
    const resident = backing.residentIndices();
    for (const i of resident) if (!this.dest.equals(base + i, backing.pageAt(i))) lost.push(base + i);
    const destOnly: number[] = [];
    for (const gfn of this.dest.keys()) {
      const i = gfn - base;
      if (i < 0 || i >= this.slot.npages || backing.pageAt(i) === undefined) destOnly.push(gfn);
    }
    for (const gfn of destOnly) if (!this.dest.equals(gfn, undefined)) lost.push(gfn);
    if (destOnly.length > 0) lost.sort((a, b) => a - b);
    return { lost, compared: resident.length + destOnly.length };
  }
}
