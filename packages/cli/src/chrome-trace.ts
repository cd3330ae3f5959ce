/**
 * Chrome trace-event JSON (the format Perfetto and chrome://tracing open) from a result's
 * TraceEvents. Virtual time is bigint ns; trace-event `ts`/`dur` are µs as numbers, converted
 * exactly enough (integer µs part + ns remainder as a fraction). Every TraceEvent track (a
 * vCPU, an L2 subject, …) becomes one thread (tid) with thread_name metadata, in order of
 * first appearance, so the same run gives the same file. `cat` is the event's trace system: "kvm"
 * for kernel tracepoints (their names and fields, as `trace-cmd report` shows them; the table is
 * KVM_TRACEPOINTS in @kvmlab/hypervisor-core), "kvmlab" for the model's own events.
 */
import type { TraceEvent } from '@kvmlab/hypervisor-core';

export interface ChromeTraceEvent {
  readonly name: string;
  readonly ph: 'X' | 'i' | 'C' | 'M';
  readonly pid: number;
  readonly tid: number;
  readonly ts?: number;
  readonly dur?: number;
  readonly s?: 't';
  readonly cat?: string;
  readonly args?: Readonly<Record<string, string | number | boolean>>;
}

export interface ChromeTrace {
  readonly traceEvents: readonly ChromeTraceEvent[];
  readonly displayTimeUnit: 'ns';
  readonly otherData: Readonly<Record<string, string | number>>;
}

const PID = 1;

/** ns (bigint) → µs (number), without going through a >2^53 number. */
export function nsToUs(ns: bigint): number {
  return Number(ns / 1000n) + Number(ns % 1000n) / 1000;
}

export function toChromeTrace(events: readonly TraceEvent[], meta: Readonly<Record<string, string | number>> = {}): ChromeTrace {
  const tids = new Map<string, number>();
  const tidOf = (track: string): number => {
    let t = tids.get(track);
    if (t === undefined) {
      t = tids.size + 1;
      tids.set(track, t);
    }
    return t;
  };
  const body: ChromeTraceEvent[] = [];
  for (const e of events) {
    const tid = tidOf(e.track);
    if (e.ph === 'X') {
      body.push({ name: e.name, cat: e.cat ?? 'kvmlab', ph: 'X', pid: PID, tid, ts: nsToUs(e.ts), dur: nsToUs(e.dur), ...(e.args ? { args: e.args } : {}) });
    } else if (e.ph === 'i') {
      body.push({ name: e.name, cat: e.cat ?? 'kvmlab', ph: 'i', s: 't', pid: PID, tid, ts: nsToUs(e.ts), ...(e.args ? { args: e.args } : {}) });
    } else {
      // Counters are per process in the format: name them after their track so two tracks'
      // counters of the same name stay apart.
      body.push({ name: `${e.track} ${e.name}`, cat: e.cat ?? 'kvmlab', ph: 'C', pid: PID, tid, ts: nsToUs(e.ts), args: { [e.name]: e.value } });
    }
  }
  const title = typeof meta.title === 'string' ? meta.title : 'kvmlab';
  const metadata: ChromeTraceEvent[] = [
    { name: 'process_name', ph: 'M', pid: PID, tid: 0, args: { name: title } },
    ...[...tids].map(([track, tid]): ChromeTraceEvent => ({ name: 'thread_name', ph: 'M', pid: PID, tid, args: { name: track } })),
    ...[...tids].map(([, tid]): ChromeTraceEvent => ({ name: 'thread_sort_index', ph: 'M', pid: PID, tid, args: { sort_index: tid } })),
  ];
  return { traceEvents: [...metadata, ...body], displayTimeUnit: 'ns', otherData: { ...meta } };
}
