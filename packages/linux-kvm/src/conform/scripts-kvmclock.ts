/**
 * ABI scripts for kvmclock from the VMM (issue 16): KVM_SET_MSRS / KVM_GET_MSRS of the kvmclock
 * MSRs against a guest WRMSR, the pvclock area after KVM_RUN, KVM_GET_CLOCK / KVM_SET_CLOCK and
 * their flags, struct pvclock_wall_clock, KVM_KVMCLOCK_CTRL, KVM_SET_TSC_KHZ over a table of
 * rates. `era` names the release whose answer differs (arch/x86/kvm/x86.c of 5.4 vs 6.18).
 */
import type { KvmclockCall, RateSpec } from './kvmclock-port.js';
import type { Script, Step } from './script.js';

// arch/x86/include/uapi/asm/kvm_para.h
const MSR_KVM_WALL_CLOCK = 0x11;
const MSR_KVM_SYSTEM_TIME = 0x12;
const MSR_KVM_WALL_CLOCK_NEW = 0x4b564d00;
const MSR_KVM_SYSTEM_TIME_NEW = 0x4b564d01;
/** Not a KVM MSR: KVM_SET_MSRS stops there (ignore_msrs=N). */
const MSR_UNKNOWN = 0x4b564dff;
// include/uapi/linux/kvm.h
const KVM_CAP_ADJUST_CLOCK = 39;
const KVM_CAP_TSC_CONTROL = 60;
const KVM_CAP_GET_TSC_KHZ = 61;
const KVM_CAP_KVMCLOCK_CTRL = 76;

const BASE = 0x10_0000; // slot 0: 64 KiB at 1 MiB
const PV = BASE; // pvclock_vcpu_time_info
const WC = BASE + 0x100; // pvclock_wall_clock
const WC2 = BASE + 0x200;
const UNBACKED = 0x4000_0000;
const hex = (n: number): string => `0x${n.toString(16)}`;

const kc = (call: KvmclockCall, era?: string): Step => ({ op: 'kvmclock', call, ...(era !== undefined ? { era } : {}) });
const setMsrs = (...m: [number, number][]): Step => kc({ k: 'setMsrs', msrs: m.map(([index, v]) => ({ index, value: hex(v) })) });
const guestWrmsr = (index: number, v: number): Step => kc({ k: 'guestWrmsr', msrs: [{ index, value: hex(v) }] });
const run: Step = kc({ k: 'run' });
const pv = (era?: string): Step => kc({ k: 'readPvclock', gpa: hex(PV) }, era);
const wc = (gpa = WC): Step => kc({ k: 'readWallClock', gpa: hex(gpa) });
const getClock = (era?: string): Step => kc({ k: 'getClock' }, era);
const cap = (c: number, name: string, era?: string): Step => ({ op: 'checkExtension', on: 'vm', cap: c, name, ...(era !== undefined ? { era } : {}) });
const setup: Step[] = [{ op: 'setMemslot', slot: 0, flags: 0, gpa: hex(BASE), size: hex(0x1_0000) }, { op: 'createVcpu', id: 0 }];

const ERA_GET_CLOCK = '5.16 added KVM_CLOCK_REALTIME | KVM_CLOCK_HOST_TSC to KVM_GET_CLOCK (with the master clock); 5.4 reports KVM_CLOCK_TSC_STABLE only';
const ERA_DOUBLE_UPDATE =
  '6.18 here: the KVM_RUN after a VMM KVM_SET_MSRS of the system-time MSR with the master clock on rewrites the area twice (+4); the model (and 5.4) once (+2); the second request is not identified';

export const kvmclockMsrScript: Script = {
  name: 'kvmclock-msrs',
  title: 'kvmclock MSRs from the VMM and from the guest, the first KVM_RUN, KVM_KVMCLOCK_CTRL, the wall clock',
  needs: 'kvmclock',
  steps: [
    cap(KVM_CAP_ADJUST_CLOCK, 'KVM_CAP_ADJUST_CLOCK', '5.4 answers KVM_CLOCK_TSC_STABLE (2); 5.16+ KVM_CLOCK_VALID_FLAGS (14)'),
    cap(KVM_CAP_TSC_CONTROL, 'KVM_CAP_TSC_CONTROL'),
    cap(KVM_CAP_GET_TSC_KHZ, 'KVM_CAP_GET_TSC_KHZ'),
    cap(KVM_CAP_KVMCLOCK_CTRL, 'KVM_CAP_KVMCLOCK_CTRL'),
    { op: 'setMemslot', slot: 0, flags: 0, gpa: hex(BASE), size: hex(0x1_0000) },
    getClock(), // no vCPU: no master clock
    { op: 'createVcpu', id: 0 },
    getClock(), // the vCPU's master-clock request waits for its first KVM_RUN
    kc({ k: 'kvmclockCtrl' }), // EINVAL: kvmclock not enabled
    pv(),
    setMsrs([MSR_KVM_SYSTEM_TIME_NEW, PV | 1]),
    pv(), // KVM_SET_MSRS only makes a request: nothing written before KVM_RUN
    kc({ k: 'getMsrs', indices: [MSR_KVM_SYSTEM_TIME_NEW, MSR_KVM_SYSTEM_TIME, MSR_KVM_WALL_CLOCK_NEW] }),
    run, // first entry: master clock snapshot, then the area
    pv(),
    getClock(ERA_GET_CLOCK),
    run,
    pv(), // nothing pending: unchanged
    setMsrs([MSR_KVM_WALL_CLOCK_NEW, WC]),
    wc(), // written at once, no KVM_RUN needed
    kc({ k: 'getMsrs', indices: [MSR_KVM_WALL_CLOCK_NEW, MSR_KVM_WALL_CLOCK] }),
    setMsrs([MSR_KVM_WALL_CLOCK_NEW, WC]),
    wc(),
    kc({ k: 'kvmclockCtrl' }),
    pv(), // PVCLOCK_GUEST_STOPPED waits for the next entry
    run,
    pv(),
    run,
    pv(), // the guest has not cleared GUEST_STOPPED: it stays
    guestWrmsr(MSR_KVM_SYSTEM_TIME, PV | 1), // the boot vCPU on the deprecated MSR: no master clock
    pv(),
    getClock(),
    guestWrmsr(MSR_KVM_SYSTEM_TIME_NEW, PV | 1), // and back
    pv(),
    getClock(ERA_GET_CLOCK),
    setMsrs([MSR_KVM_SYSTEM_TIME, PV | 1]), // the VMM on the deprecated MSR: the master clock stays
    run,
    pv(ERA_DOUBLE_UPDATE),
    getClock(ERA_GET_CLOCK),
    guestWrmsr(MSR_KVM_WALL_CLOCK, WC2),
    wc(WC2),
    kc({ k: 'getMsrs', indices: [MSR_KVM_WALL_CLOCK, MSR_KVM_SYSTEM_TIME] }),
    setMsrs([MSR_KVM_SYSTEM_TIME_NEW, PV]), // enable bit clear
    kc({ k: 'kvmclockCtrl' }),
    setMsrs([MSR_KVM_SYSTEM_TIME_NEW, UNBACKED | 1]), // enabled, but no memslot there
    kc({ k: 'kvmclockCtrl' }, '5.4 refuses (EINVAL: pv_time_enabled needs a backed area); 6.18 checks pv_time.active, set by the enable bit alone'),
    setMsrs([MSR_KVM_WALL_CLOCK_NEW, UNBACKED]),
    kc({ k: 'getMsrs', indices: [MSR_KVM_SYSTEM_TIME_NEW, MSR_KVM_WALL_CLOCK_NEW] }),
    setMsrs([MSR_KVM_SYSTEM_TIME_NEW, PV | 1], [MSR_UNKNOWN, 0], [MSR_KVM_WALL_CLOCK_NEW, WC]), // stops at the unknown MSR
    kc({ k: 'getMsrs', indices: [MSR_KVM_SYSTEM_TIME_NEW, MSR_KVM_WALL_CLOCK_NEW] }),
  ],
};

const ERA_SET_FLAGS = '5.4 accepts only flags 0 (EINVAL otherwise); 5.16+ accepts KVM_CLOCK_VALID_FLAGS, so GET\'s flags can be passed back';

export const kvmclockClockScript: Script = {
  name: 'kvmclock-clock',
  title: 'KVM_GET_CLOCK / KVM_SET_CLOCK: flags, KVM_CLOCK_REALTIME, the area after a SET',
  needs: 'kvmclock',
  steps: [
    ...setup,
    setMsrs([MSR_KVM_SYSTEM_TIME_NEW, PV | 1]),
    run,
    pv(),
    kc({ k: 'setClock', clock: '1000000000000', flags: 0 }),
    getClock(ERA_GET_CLOCK),
    run, // every vCPU got KVM_REQ_CLOCK_UPDATE
    pv(),
    kc({ k: 'setClock', clock: '2000000000000', flags: 2 }, ERA_SET_FLAGS), // KVM_CLOCK_TSC_STABLE passed back
    getClock(ERA_GET_CLOCK),
    kc({ k: 'setClock', clock: '3000000000000', flags: 0x10 }), // not a valid flag: EINVAL
    getClock(ERA_GET_CLOCK), // unchanged
    kc({ k: 'setClock', clock: '4000000000000', flags: 4, realtimeAgoMs: 500 }, ERA_SET_FLAGS), // REALTIME: +500 ms
    getClock(ERA_GET_CLOCK),
    kc({ k: 'setClock', clock: '5000000000000', flags: 14 }, ERA_SET_FLAGS),
    getClock(ERA_GET_CLOCK),
    run,
    pv(),
    setMsrs([MSR_KVM_WALL_CLOCK_NEW, WC]),
    wc(), // the epoch follows the new kvmclock
  ],
};

const rate = (r: RateSpec): Step[] => [kc({ k: 'setTscKhz', rate: r }), kc({ k: 'getTscKhz' }), run, pv()];
const ERA_TSC_KHZ = '5.4 without TSC scaling refuses every KVM_SET_TSC_KHZ (kvm_max_guest_tsc_khz stays 0); 6.18 checks that limit only with TSC scaling';

export const kvmclockTscKhzScript: Script = {
  name: 'kvmclock-tsc-khz',
  title: 'KVM_SET_TSC_KHZ / KVM_GET_TSC_KHZ over a table of rates, and always-catch-up mode',
  needs: 'kvmclock',
  steps: [
    ...setup,
    setMsrs([MSR_KVM_SYSTEM_TIME_NEW, PV | 1]),
    run,
    pv(),
    kc({ k: 'getTscKhz' }),
    ...[
      { abs: 0 }, // the host rate
      { host: true },
      { host: true, plus: 100 }, // within ±250 ppm: no scaling
      { host: true, plus: -100 },
      { host: true, plus: -1000 }, // below, no scaling hardware: refused, GET keeps it
      { host: true, plus: 1000 }, // above: always catch up
      { abs: 1 },
      { abs: '0x7fffffff' },
      { abs: '0xffffffff' }, // huge: (u32) fits
      { abs: '0x100000000' }, // (u32) 0: the host rate
      { abs: '0x100000001' }, // (u32) 1: refused
      { host: true },
    ].flatMap((r) => rate(r as RateSpec).map((s, i) => (i === 0 ? { ...s, era: ERA_TSC_KHZ } : s))),
    run,
    pv(), // catch-up is never turned off: every entry still rewrites the area
  ],
};

export const KVMCLOCK_SCRIPTS: readonly Script[] = [kvmclockMsrScript, kvmclockClockScript, kvmclockTscKhzScript];
