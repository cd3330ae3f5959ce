/**
 * A recorder of what happened, in virtual time, for Chrome/Perfetto traces. Off by default:
 * when disabled, recording is a single branch. Tracks name a timeline (e.g. "vcpu0", "L2 S1").
 * Events that are kernel tracepoints carry the kernel's name, fields and trace system (`cat`
 * "kvm", see tracepoints.ts); the others are the model's, `cat` "kvmlab".
 */
import { KVM_TRACEPOINTS, MODEL_TRACE_SYSTEM, type KvmTracepointName, type TracepointFields } from './tracepoints.js';

export type TraceArgs = Readonly<Record<string, string | number | boolean>>;

export type TraceEvent =
  | { readonly ph: 'X'; readonly ts: bigint; readonly dur: bigint; readonly track: string; readonly name: string; readonly args?: TraceArgs; readonly cat?: string }
  | { readonly ph: 'i'; readonly ts: bigint; readonly track: string; readonly name: string; readonly args?: TraceArgs; readonly cat?: string }
  | { readonly ph: 'C'; readonly ts: bigint; readonly track: string; readonly name: string; readonly value: number; readonly cat?: string };

export class Tracer {
  enabled = false;
  /** Stops recording past this many events (a runaway guard; the count of drops is kept). */
  limit = 1_000_000;
  dropped = 0;
  private readonly list: TraceEvent[] = [];
  /** Set when an event was recorded with a time before the latest one (a slice recorded at its end, an annotation after the run). */
  private unordered = false;
  private last = 0n;

  /** The events in time order (stable: events at the same time keep the order they happened in). */
  get events(): readonly TraceEvent[] {
    if (this.unordered) {
      this.list.sort((a, b) => (a.ts < b.ts ? -1 : a.ts > b.ts ? 1 : 0));
      this.unordered = false;
    }
    return this.list;
  }

  slice(track: string, name: string, ts: bigint, dur: bigint, args?: TraceArgs): void {
    if (this.enabled) this.push({ ph: 'X', ts, dur, track, name, args, cat: MODEL_TRACE_SYSTEM });
  }

  instant(track: string, name: string, ts: bigint, args?: TraceArgs): void {
    if (this.enabled) this.push({ ph: 'i', ts, track, name, args, cat: MODEL_TRACE_SYSTEM });
  }

  /** A kernel tracepoint: its name and (a subset of) its fields, see tracepoints.ts. */
  tracepoint<N extends KvmTracepointName>(track: string, name: N, ts: bigint, fields: TracepointFields<N>): void {
    if (this.enabled) this.push({ ph: 'i', ts, track, name, args: fields as TraceArgs, cat: KVM_TRACEPOINTS[name].system });
  }

  counter(track: string, name: string, ts: bigint, value: number): void {
    if (this.enabled) this.push({ ph: 'C', ts, track, name, value, cat: MODEL_TRACE_SYSTEM });
  }

  clear(): void {
    this.list.length = 0;
    this.dropped = 0;
    this.unordered = false;
    this.last = 0n;
  }

  private push(e: TraceEvent): void {
    if (this.list.length >= this.limit) {
      this.dropped++;
      return;
    }
    if (e.ts < this.last) this.unordered = true;
    else this.last = e.ts;
    this.list.push(e);
  }
}
