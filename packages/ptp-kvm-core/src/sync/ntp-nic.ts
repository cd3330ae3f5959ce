/**
 * The `none` variant's only time source: NTP to the host over a virtual NIC (virtio-net with
 * vhost-net), as a guest kernel without ptp_kvm leaves chronyd to do. One client/server
 * exchange is RFC 5905's on-wire protocol: T1 (guest transmit), T2 (host receive), T3 (host
 * transmit), T4 (guest receive); offset θ = ((T2 − T1) + (T3 − T4)) / 2, delay
 * δ = (T4 − T1) − (T3 − T2). The request and the response take different paths through the
 * hypervisor, and half their difference is an error no client can see (θ assumes symmetry).
 *
 * The model is the network, not a host function the guest calls: the guest's clock stamps T1
 * and T4, the host's CLOCK_REALTIME stamps T2 and T3 (kernel receive/transmit timestamps, which
 * chronyd uses), and virtual time passes in between.
 */
import { drawLatency, type HostClock, type Latency, type Rng, type Simulation } from '@kvmlab/hypervisor-core';
import type { OffsetSample } from './methods.js';
import { drawSteal, type StealModel } from './error-sources.js';

export interface NicPath {
  /** Guest transmit → host receive: guest stack, virtqueue kick (an ioeventfd exit), vhost-net, tap, host stack. */
  readonly request: Latency;
  /** Host transmit → guest receive: host stack, tap, vhost-net, interrupt injection (irqfd), guest softirq. */
  readonly response: Latency;
  /** chronyd on the host between its receive and transmit timestamps. */
  readonly server: Latency;
  readonly source: string;
}

/**
 * Default virtio-net path: request median 30 µs, response median 45 µs (the response pays an
 * interrupt injection and the guest's softirq), both lognormal with geometric SD 1.6; the host
 * server takes ~15 µs. An assumption, not a measurement of virtio-net: it puts the round trip
 * (~75 µs) and its spread where NTP-only KVM guests are reported — system offset within ±50 µs
 * and root dispersion 80–280 µs on a Ryzen host (libertysys.com.au, 2024, "before" the PHC).
 */
export const VIRTIO_NET_NTP_PATH: NicPath = {
  request: { kind: 'lognormal', medianNs: 30_000, gsd: 1.6 },
  response: { kind: 'lognormal', medianNs: 45_000, gsd: 1.6 },
  server: { kind: 'lognormal', medianNs: 15_000, gsd: 1.3 },
  source:
    'assumption calibrated to libertysys.com.au 2024 (NTP-only KVM guest: system offset within ±50 µs, root dispersion 80–280 µs): request 30 µs, response 45 µs median, gsd 1.6',
};

export function scaleNicPath(p: NicPath, k: number): NicPath {
  const s = (l: Latency): Latency => (l.kind === 'lognormal' ? { ...l, medianNs: l.medianNs * k } : l);
  return { ...p, request: s(p.request), response: s(p.response), server: s(p.server) };
}

/** One NTP exchange; `offsetNs` is guest − host as the client computes it (−θ), `delayNs` is δ. */
export function ntpExchange(sim: Simulation, rng: Rng, guestRealtime: () => bigint, host: HostClock, path: NicPath, steal?: StealModel): OffsetSample {
  const t1 = guestRealtime();
  sim.elapse(drawLatency(rng, path.request) + drawSteal(rng, steal));
  const t2 = host.realtime();
  sim.elapse(drawLatency(rng, path.server));
  const t3 = host.realtime();
  sim.elapse(drawLatency(rng, path.response) + drawSteal(rng, steal));
  const t4 = guestRealtime();
  const theta = (t2 - t1 + (t3 - t4)) / 2n;
  return { offsetNs: -theta, localNs: t4, delayNs: t4 - t1 - (t3 - t2) };
}
