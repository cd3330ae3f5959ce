/**
 * A recorder of what happened, in virtual time, for Chrome/Perfetto traces. Off by default:
 * when disabled, recording is a single branch. Tracks name a timeline (e.g. "vcpu0", "L2 S1").
 */
export type TraceArgs = Readonly<Record<string, string | number | boolean>>;

export type TraceEvent =
  | { readonly ph: 'X'; readonly ts: bigint; readonly dur: bigint; readonly track: string; readonly name: string; readonly args?: TraceArgs }
  | { readonly ph: 'i'; readonly ts: bigint; readonly track: string; readonly name: string; readonly args?: TraceArgs }
  | { readonly ph: 'C'; readonly ts: bigint; readonly track: string; readonly name: string; readonly value: number };

export class Tracer {
  enabled = false;
  /** Stops recording past this many events (a runaway guard; the count of drops is kept). */
  limit = 1_000_000;
  dropped = 0;
  private readonly list: TraceEvent[] = [];

  get events(): readonly TraceEvent[] {
    return this.list;
  }

  slice(track: string, name: string, ts: bigint, dur: bigint, args?: TraceArgs): void {
    if (this.enabled) this.push({ ph: 'X', ts, dur, track, name, args });
  }

  instant(track: string, name: string, ts: bigint, args?: TraceArgs): void {
    if (this.enabled) this.push({ ph: 'i', ts, track, name, args });
  }

  counter(track: string, name: string, ts: bigint, value: number): void {
    if (this.enabled) this.push({ ph: 'C', ts, track, name, value });
  }

  clear(): void {
    this.list.length = 0;
    this.dropped = 0;
  }

  private push(e: TraceEvent): void {
    if (this.list.length >= this.limit) this.dropped++;
    else this.list.push(e);
  }
}
