/**
 * One method's run of the ptp-sync experiment: build the guest through the arch adapter, boot
 * its timekeeping off by `offsetNs`, register ptp_kvm, and run the servo loop every 2^poll s in
 * virtual time. At random instants (the same for every method) the model samples the true
 * guest–host offset, which no guest can see, beside what the servo measured.
 */
import { Rng, type HostClock, type TraceEvent } from '@kvmlab/hypervisor-core';
import { GuestTimekeeper } from '../guest/timekeeping.js';
import { PtpClockRegistry, ptpKvmInit } from '../ptp/ptp-kvm-common.js';
import type { PtpSyncArchAdapter, PtpSyncBuildInput, PtpSyncMethod, PtpSyncVariant } from './adapter.js';
import { scheduleHostNtpSlew, type HostNtpSlew, type StealModel } from './error-sources.js';
import { ntpExchange, scaleNicPath, VIRTIO_NET_NTP_PATH } from './ntp-nic.js';
import { measurePrecise, measureSysOffset, type OffsetSample } from './methods.js';
import { chronyClockServo } from './chrony-servo.js';
import { piClockServo, type ClockServo } from './servo.js';

export interface PtpSyncParams {
  readonly seed: number;
  readonly durationS: number;
  readonly pollLog2: number;
  readonly offsetNs: bigint;
  readonly driftPpm: number;
  readonly counterHz: bigint;
  readonly latencyScale: number;
  readonly sysOffsetSamples: number;
  /** 'pi' (phc2sys) or 'chrony' (refclock PHC poll/dpoll, median filter, regression). */
  readonly servo: 'pi' | 'chrony';
  /** chrony's dpoll: PHC readings every 2^dpollLog2 s. */
  readonly dpollLog2: number;
  /** True-offset samples per poll interval. */
  readonly samplesPerPoll: number;
  /** Record trace events (hypercalls from hv.trace, polls and offsets from the harness). */
  readonly trace?: boolean;
  /** vCPUs of the guest (default 1); with more, every poll also reads the PHC from each of them. */
  readonly vcpus?: number;
  /** The variant (absent: 'merged'). */
  readonly variant?: PtpSyncVariant;
  /** Error sources (error-sources.ts); absent or 0: the ideal host of earlier releases. */
  readonly hostNtpSlew?: HostNtpSlew;
  readonly steal?: StealModel;
  /** Multiplies the virtual NIC's delays (method 'ntp'). */
  readonly nicScale?: number;
}

export interface MethodTrace {
  readonly method: PtpSyncMethod;
  /** Sample instants, s of virtual time. */
  readonly t: number[];
  /** Guest CLOCK_REALTIME − host CLOCK_REALTIME at the same instant (same counter value), ns. */
  readonly offset: number[];
  /** Guest CLOCK_REALTIME − the host's clock interpolated between counter ticks, ns. */
  readonly tsError: number[];
  /** What the servo measured at each poll (guest − PHC), ns. */
  readonly measured: number[];
  readonly measuredT: number[];
  /** Polls whose measurement failed (an errno from the ioctl). */
  readonly failedPolls: number;
  readonly steps: number;
  readonly finalFreqPpb: number;
  /** Trace events when `trace` was asked for and the adapter exposes its tracer. */
  readonly events?: readonly TraceEvent[];
  /**
   * With vcpus > 1, per poll: the largest |offset read on vCPU k − offset read on vCPU 0| over k,
   * both by PTP_SYS_OFFSET_PRECISE right after each other, ns (the PHCs of all vCPUs agree if ~0).
   */
  readonly vcpuSpread: number[];
  /** Cross-vCPU readings that failed (an errno, e.g. EINVAL when a vCPU's cycles lie outside the guest's clocksource interval). */
  readonly vcpuFailures: number;
  /** The delay each measurement reported (NTP δ, the PTP_SYS_OFFSET bracket; 0 for a cross-timestamp), ns, per poll. */
  readonly measuredDelay?: number[];
  /** The frequency correction after each poll, ppb. */
  readonly freqPpb?: number[];
  /** Per poll: whether its measurement succeeded (chrony's reach register). */
  readonly pollOk?: boolean[];
}

const NS_PER_S = 1_000_000_000n;

/** The host's CLOCK_REALTIME at the current virtual instant, interpolated inside the counter tick. */
function hostRealtimeInterpolated(host: HostClock, at: bigint): number {
  const num = at * host.counterHz * (NS_PER_S + host.driftPpb);
  const den = NS_PER_S * NS_PER_S;
  const c = host.counter(at);
  const frac = Number(num % den) / Number(den);
  const r0 = host.cyclesToTimes(c).real;
  const r1 = host.cyclesToTimes(c + 1n).real;
  return Number(r0 - host.realtimeStartNs) + frac * Number(r1 - r0);
}

function scaleLatency(l: PtpSyncBuildInput['latency'], k: number): PtpSyncBuildInput['latency'] {
  const s = (x: PtpSyncBuildInput['latency']['entry']): PtpSyncBuildInput['latency']['entry'] => {
    switch (x.kind) {
      case 'fixed':
        return { kind: 'fixed', ns: x.ns * k };
      case 'uniform':
        return { kind: 'uniform', minNs: x.minNs * k, maxNs: x.maxNs * k };
      case 'normal':
        return { kind: 'normal', meanNs: x.meanNs * k, sdNs: x.sdNs * k };
      case 'lognormal':
        return { kind: 'lognormal', medianNs: x.medianNs * k, gsd: x.gsd };
      case 'exponential':
        return { kind: 'exponential', meanNs: x.meanNs * k };
    }
  };
  return { entry: s(l.entry), exit: s(l.exit), ...(l.steal !== undefined ? { steal: l.steal } : {}) };
}

export function runMethod(adapter: PtpSyncArchAdapter, method: PtpSyncMethod, p: PtpSyncParams): MethodTrace {
  const steal = p.steal !== undefined && p.steal.probability > 0 ? p.steal : undefined;
  const setup = adapter.build({
    method,
    ...(p.variant !== undefined ? { variant: p.variant } : {}),
    seed: p.seed,
    counterHz: p.counterHz,
    driftPpm: p.driftPpm,
    latency: scaleLatency(steal !== undefined ? { ...adapter.defaultLatency, steal } : adapter.defaultLatency, p.latencyScale),
    ...(p.vcpus !== undefined && p.vcpus > 1 ? { vcpus: p.vcpus } : {}),
    ...(p.trace === true ? { trace: true } : {}),
  });
  const { sim, host } = setup;
  const tracer = p.trace === true ? setup.trace : undefined;
  if (tracer !== undefined) tracer.enabled = true;
  const track = `guest/${method}`;
  // The host runs NTP against a good reference: its clock cancels the counter's drift. The
  // guest's clock runs on the raw counter rate, so it drifts by driftPpm against the host.
  const hostBasePpb = (-p.driftPpm / (1 + p.driftPpm / 1e6)) * 1000;
  host.adjustFrequency(hostBasePpb);
  const tk = new GuestTimekeeper(setup.clocksource, { realtimeNs: host.realtime() + p.offsetNs });
  const registry = new PtpClockRegistry();
  // A guest without ptp_kvm (method 'ntp') registers no PHC: its only source is NTP over the NIC.
  const hooks = method === 'ntp' ? undefined : setup.hooks;
  if (method !== 'ntp' && hooks === undefined) throw new RangeError(`the ${adapter.arch} adapter built no ptp_kvm hooks for method ${method}`);
  const driver = hooks === undefined ? undefined : ptpKvmInit(hooks, tk, { registry });
  // The PHC as each other vCPU reads it: the same driver, its calls issued on that vCPU.
  const others = driver === undefined ? [] : (setup.otherCpus ?? []).map((h) => ptpKvmInit(h, tk, { registry }));
  const tk0 = tk.realtime(); // local times handed to the servo are relative (doubles keep ns precision)
  const ptp = driver?.clock;
  const nic = scaleNicPath(VIRTIO_NET_NTP_PATH, p.nicScale ?? 1);
  const measure = (): OffsetSample => {
    if (ptp === undefined) return ntpExchange(sim, sim.rng, () => tk.realtime(), host, nic, steal);
    return method === 'sys-offset' ? measureSysOffset(ptp, p.sysOffsetSamples) : measurePrecise(ptp);
  };
  const intervalNs = (1n << BigInt(p.pollLog2)) * NS_PER_S;
  const servo: ClockServo = p.servo === 'chrony' ? chronyClockServo({ pollLog2: p.pollLog2, dpollLog2: p.dpollLog2 }) : piClockServo(p.pollLog2);
  const readEveryNs = BigInt(Math.round(servo.sampleIntervalS * 1e9));
  const start = sim.now;
  const end = start + BigInt(Math.round(p.durationS)) * NS_PER_S;
  const tr: MethodTrace = {
    method,
    t: [],
    offset: [],
    tsError: [],
    measured: [],
    measuredT: [],
    failedPolls: 0,
    steps: 0,
    finalFreqPpb: 0,
    vcpuSpread: [],
    vcpuFailures: 0,
    measuredDelay: [],
    freqPpb: [],
    pollOk: [],
  };
  let failed = 0;
  let vcpuFailures = 0;
  let steps = 0;

  const poll = (): void => {
    let s: OffsetSample;
    try {
      s = measure();
    } catch {
      failed++;
      tr.pollOk!.push(false);
      return;
    }
    tr.pollOk!.push(true);
    tracer?.counter(track, 'measured offset (ns)', sim.now, Number(s.offsetNs));
    tr.measured.push(Number(s.offsetNs));
    tr.measuredT.push(Number(sim.now - start) / 1e9);
    tr.measuredDelay!.push(Number(s.delayNs));
    const act = servo.sample(Number(s.offsetNs), Number(s.localNs - tk0) / 1e9);
    if (act.stepNs !== undefined) {
      tk.step(BigInt(Math.round(act.stepNs))); // clockadj_step / makestep
      steps++;
    }
    if (act.freqPpb !== undefined) tk.adjFrequencyPpb(act.freqPpb);
    tr.freqPpb!.push(tk.frequencyPpb);
    if (ptp !== undefined && others.length > 0) {
      let spread = 0;
      try {
        const ref = measurePrecise(ptp).offsetNs;
        for (const o of others) spread = Math.max(spread, Math.abs(Number(measurePrecise(o.clock).offsetNs - ref)));
        tr.vcpuSpread.push(spread);
      } catch {
        vcpuFailures++;
      }
    }
  };
  for (let t = start + readEveryNs; t <= end; t += readEveryNs) sim.schedule(t, poll, 'ptp-sync poll');
  if (p.hostNtpSlew !== undefined) scheduleHostNtpSlew(sim, host, hostBasePpb, p.hostNtpSlew, p.seed, end);

  // The instants the model looks at the truth: the same for every method (own PRNG stream).
  const when = new Rng(p.seed ^ 0x7e57);
  const observe = (): void => {
    const g = tk.realtime();
    tr.t.push(Number(sim.now - start) / 1e9);
    tr.offset.push(Number(g - host.realtime()));
    tracer?.counter(track, 'true offset (ns)', sim.now, tr.offset[tr.offset.length - 1]!);
    tr.tsError.push(Number(g - host.realtimeStartNs) - hostRealtimeInterpolated(host, sim.now));
  };
  const slot = intervalNs / BigInt(p.samplesPerPoll);
  for (let t = start; t + slot <= end; t += slot) {
    sim.schedule(t + BigInt(Math.floor(when.next() * Number(slot))), observe, 'ptp-sync observe');
  }
  sim.runUntil(end);
  for (const o of others) o.exit();
  driver?.exit();
  return { ...tr, failedPolls: failed, vcpuFailures, steps, finalFreqPpb: tk.frequencyPpb, ...(tracer ? { events: tracer.events.map((e) => (e.track.startsWith('guest/') ? e : { ...e, track: `${method}/${e.track}` })) } : {}) };
}
