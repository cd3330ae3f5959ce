/**
 * Virtual time: a discrete-event scheduler in bigint nanoseconds. Nothing in kvmlab reads the
 * wall clock; a run is a pure function of its seed. Events at the same instant run in the
 * order they were scheduled (a sequence number breaks ties in the heap).
 */

import { SimulationError } from '../errors.js';
import { show } from '../validate.js';

export type EventFn = (now: bigint) => void;

/** Virtual time is a non-negative bigint of ns; anything else would turn `now` into a string or NaN. */
function assertTime(v: unknown, what: string): asserts v is bigint {
  if (typeof v !== 'bigint') throw new SimulationError(`${what} ${show(v)} is not a bigint of ns`, what);
}

function assertEvent(fn: unknown, label: unknown): asserts fn is EventFn {
  if (typeof fn !== 'function') throw new SimulationError(`event ${show(fn)} is not a function`, 'fn');
  if (label !== undefined && typeof label !== 'string') throw new SimulationError(`event label ${show(label)} is not a string`, 'label');
}

export interface EventHandle {
  readonly at: bigint;
  readonly label: string | undefined;
}

interface QueuedEvent extends EventHandle {
  /** Number(at): exact below 2^53 ns (104 days), and never out of order above it. */
  readonly key: number;
  readonly seq: number;
  /** The scheduler that issued it (a foreign or forged handle cancels nothing). */
  readonly owner: Scheduler;
  readonly fn: EventFn;
  /** Cancelled, or taken off the heap to run: either way, cancel() has nothing left to do. */
  settled: boolean;
}

/**
 * Heap order for two events whose keys are equal: the bigint times decide only where the doubles
 * may have rounded (above 2^53 ns), then the sequence number (scheduling order).
 */
const tieBefore = (a: QueuedEvent, b: QueuedEvent): boolean => {
  if (a.key > Number.MAX_SAFE_INTEGER && a.at !== b.at) return a.at < b.at;
  return a.seq < b.seq;
};

/** Longest elapse() kept as pending ns (a guest instruction, an exit's cost): far below 2^53. */
const MAX_LAZY_NS = 1n << 32n;
const MAX_LAZY_NS_NUMBER = Number(MAX_LAZY_NS);

export class Scheduler {
  /**
   * The binary heap, as two parallel arrays: the events, and their keys as unboxed doubles, so
   * that sifting compares numbers in one array (as a plain number heap does) and reads an event
   * only on a tie.
   */
  private readonly heap: QueuedEvent[] = [];
  private readonly keys: number[] = [];
  private seq = 0;
  private current = 0n;
  /**
   * ns that elapse() let pass with no event due, not yet added to `current`: a guest instruction
   * elapses 1 ns, and a bigint add per instruction was the L2 interpreter's largest allocation.
   * Everything that reads the time folds them in first (sync()).
   */
  private pendingNs = 0;
  /** Number(current) (exact below 2^53 ns, where the lazy path is used). */
  private currentKey = 0;
  private executed = 0;
  private live = 0;

  /** Current virtual time in ns. */
  get now(): bigint {
    return this.sync();
  }

  /** `current` with the pending ns folded in. */
  private sync(): bigint {
    if (this.pendingNs !== 0) this.setCurrent(this.current + BigInt(this.pendingNs));
    return this.current;
  }

  private setCurrent(t: bigint, key: number = Number(t)): void {
    this.current = t;
    this.currentKey = key;
    this.pendingNs = 0;
  }

  /** Number of events run so far. */
  get eventsRun(): number {
    return this.executed;
  }

  /** Number of events still queued (not counting cancelled ones). */
  get pending(): number {
    return this.live;
  }

  /** Runs `fn` at absolute time `at` (≥ now). */
  schedule(at: bigint, fn: EventFn, label?: string): EventHandle {
    assertTime(at, 'schedule time');
    assertEvent(fn, label);
    if (at < this.sync()) {
      throw new SimulationError(`cannot schedule at ${at} ns: virtual time is already ${this.current} ns`, 'schedule time');
    }
    return this.enqueue(at, Number(at), fn, label);
  }

  /** Queues an event whose arguments were checked (at ≥ now; key = Number(at)). */
  private enqueue(at: bigint, key: number, fn: EventFn, label: string | undefined): EventHandle {
    const ev: QueuedEvent = { at, key, seq: this.seq++, owner: this, fn, label, settled: false };
    this.push(ev);
    this.live++;
    return ev;
  }

  /** Runs `fn` after `delay` ns (≥ 0). */
  after(delay: bigint, fn: EventFn, label?: string): EventHandle {
    assertTime(delay, 'delay');
    // Number() keeps a bigint's sign (and a non-zero bigint never rounds to 0): the sign test
    // and the heap key from one conversion, instead of a bigint compare and Number(at).
    const d = Number(delay);
    if (d < 0) throw new SimulationError(`negative delay ${delay} ns`, 'delay');
    assertEvent(fn, label);
    const sum = this.currentKey + this.pendingNs + d;
    const at = this.sync() + delay;
    // now + a non-negative delay is never in the past: schedule()'s time checks are settled.
    // The double sum is Number(at) exactly while it is a safe integer.
    return this.enqueue(at, sum <= Number.MAX_SAFE_INTEGER ? sum : Number(at), fn, label);
  }

  /** Cancels a queued event; returns false if it already ran or was cancelled. */
  cancel(handle: EventHandle): boolean {
    if (typeof handle !== 'object' || handle === null) return false;
    const ev = handle as QueuedEvent;
    if (ev.owner !== this) return false;
    if (ev.settled) return false;
    ev.settled = true;
    this.live--;
    return true;
  }

  /** Runs every event due at or before `t`, then sets now = t. Returns the events run. */
  runUntil(t: bigint): number {
    assertTime(t, 'runUntil time');
    if (t < this.sync()) throw new SimulationError(`runUntil(${t}) is in the past (now ${this.current})`, 'runUntil time');
    const start = this.executed;
    for (;;) {
      const top = this.heap[0];
      if (top === undefined || top.at > t) break;
      this.fire(top);
    }
    this.setCurrent(t);
    return this.executed - start;
  }

  /**
   * runUntil(t), except that it stops right after an event that makes `stop()` true, with now at
   * that event's time (a blocked vCPU woken by a signal does not sleep on to its timer). Returns
   * true if it stopped early.
   */
  runUntilOr(t: bigint, stop: () => boolean): boolean {
    assertTime(t, 'runUntilOr time');
    if (typeof stop !== 'function') throw new SimulationError(`stop ${show(stop)} is not a function`, 'stop');
    if (t < this.sync()) throw new SimulationError(`runUntilOr(${t}) is in the past (now ${this.current})`, 'runUntilOr time');
    for (;;) {
      const top = this.heap[0];
      if (top === undefined || top.at > t) break;
      if (this.fire(top) && stop()) return true;
    }
    this.setCurrent(t);
    return false;
  }

  /** runUntil(now + d). */
  runFor(d: bigint): number {
    assertTime(d, 'runFor duration');
    if (d < 0n) throw new SimulationError(`negative runFor duration ${d} ns`, 'runFor duration');
    return this.runUntil(this.sync() + d);
  }

  /** Runs until no event is left (or `maxEvents` ran, to stop runaway models). */
  run(maxEvents = Number.MAX_SAFE_INTEGER): number {
    if (typeof maxEvents !== 'number' || !(maxEvents >= 0)) throw new SimulationError(`maxEvents ${show(maxEvents)} is not a count`, 'maxEvents');
    this.sync();
    const start = this.executed;
    while (this.executed - start < maxEvents) {
      const top = this.heap[0];
      if (top === undefined) break;
      this.fire(top);
    }
    return this.executed - start;
  }

  /**
   * Lets `d` ns pass inside the running event, as an instruction that takes time does (an HVC
   * round trip, a VM exit). Events due within the interval run first, each at its own time.
   */
  elapse(d: bigint): void {
    assertTime(d, 'elapse duration');
    if (d < 0n) throw new SimulationError(`negative elapse ${d} ns`, 'elapse duration');
    // No event due by then (the common case of a guest instruction): only the pending ns move.
    // The same as runUntil(now + d) — which would run nothing and set now — as long as the
    // doubles are exact (below 2^53 ns, 104 days).
    if (d <= MAX_LAZY_NS) {
      const t = this.currentKey + this.pendingNs + Number(d);
      const top = this.heap[0];
      if (t <= Number.MAX_SAFE_INTEGER && (top === undefined || top.key > t)) {
        this.pendingNs += Number(d);
        return;
      }
    }
    this.runUntil(this.sync() + d);
  }

  /**
   * elapse() for a duration given as a number of ns (a safe integer ≥ 0): what a processor model
   * calls once per guest instruction. The same time passes and the same events run as with
   * elapse(BigInt(d)); only the bigint check and the two conversions of the common case are gone.
   */
  elapseNs(d: number): void {
    if (!Number.isSafeInteger(d) || d < 0) throw new SimulationError(`elapse duration ${show(d)} is not a safe integer of ns ≥ 0`, 'elapse duration');
    if (d <= MAX_LAZY_NS_NUMBER) {
      const t = this.currentKey + this.pendingNs + d;
      const top = this.heap[0];
      if (t <= Number.MAX_SAFE_INTEGER && (top === undefined || top.key > t)) {
        this.pendingNs += d;
        return;
      }
    }
    this.runUntil(this.sync() + BigInt(d));
  }

  /** Takes the heap's top event off and runs it (unless it was cancelled); true if it ran. */
  private fire(top: QueuedEvent): boolean {
    this.pop();
    if (top.settled) return false; // a queued event is settled only by cancel()
    top.settled = true;
    this.live--;
    this.setCurrent(top.at, top.key);
    this.executed++;
    top.fn(top.at);
    return true;
  }

  private push(ev: QueuedEvent): void {
    const h = this.heap;
    const keys = this.keys;
    const key = ev.key;
    let i = h.length;
    h.push(ev);
    keys.push(key);
    while (i > 0) {
      const p = (i - 1) >> 1;
      const pk = keys[p]!;
      if (key > pk || (key === pk && !tieBefore(ev, h[p]!))) break;
      h[i] = h[p]!;
      keys[i] = pk;
      i = p;
    }
    h[i] = ev;
    keys[i] = key;
  }

  private pop(): void {
    const h = this.heap;
    const keys = this.keys;
    const last = h.pop();
    const lastKey = keys.pop();
    if (last === undefined || lastKey === undefined || h.length === 0) return;
    let i = 0;
    const n = h.length;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      let c = l;
      let ck = keys[l]!;
      if (r < n) {
        const rk = keys[r]!;
        if (rk < ck || (rk === ck && tieBefore(h[r]!, h[l]!))) {
          c = r;
          ck = rk;
        }
      }
      if (ck > lastKey || (ck === lastKey && !tieBefore(h[c]!, last))) break;
      h[i] = h[c]!;
      keys[i] = ck;
      i = c;
    }
    h[i] = last;
    keys[i] = lastKey;
  }
}
