import { fc, test } from '@fast-check/vitest';
import { kvmGetTimeScale } from '@kvmlab/hypervisor-core';
import { ptpKvmX86, ptpKvmX86Host } from '@kvmlab/ptp-kvm-x86';
import { describe, expect, it } from 'vitest';
import { isAvailable } from '../src/available.js';
import { compareWithModel, runConformance } from '../src/conform/conformance.js';
import { eraFor, KVMCLOCK_RUN_BUDGET_MS, kvmclockEraFor, loadFixtures } from '../src/conform/fixture.js';
import { relKhz } from '../src/conform/kvmclock-port.js';
import type { KvmclockModel } from '../src/conform/model-target.js';
import { KVMCLOCK_SCRIPTS } from '../src/conform/scripts-kvmclock.js';
import * as abi from '../src/ffi/kvm-abi.js';
import { generateWrmsrCode } from '../src/guest/codegen.js';
import { kvmclockModel } from './kvmclock-model.js';

const newest = loadFixtures().filter((f) => f.results['kvmclock-msrs'] !== undefined).at(-1);
const total = KVMCLOCK_SCRIPTS.reduce((n, s) => n + s.steps.length, 0);
const ids = (rows: readonly { script: string; index: number }[]): string[] => rows.map((r) => `${r.script}#${r.index}`);

describe('kvmclock ABI values (include/uapi/linux/kvm.h)', () => {
  it('ioctl numbers: KVM_GET/SET_CLOCK, KVM_GET/SET_MSRS, KVM_SET/GET_TSC_KHZ, KVM_KVMCLOCK_CTRL', () => {
    expect(abi.KVM_SET_CLOCK).toBe(0x4030ae7bn);
    expect(abi.KVM_GET_CLOCK).toBe(0x8030ae7cn);
    expect(abi.KVM_GET_MSRS).toBe(0xc008ae88n);
    expect(abi.KVM_SET_MSRS).toBe(0x4008ae89n);
    expect([abi.KVM_SET_TSC_KHZ, abi.KVM_GET_TSC_KHZ, abi.KVM_KVMCLOCK_CTRL]).toEqual([0xaea2n, 0xaea3n, 0xaeadn]);
    expect([abi.KVM_CAP_ADJUST_CLOCK, abi.KVM_CAP_TSC_CONTROL, abi.KVM_CAP_GET_TSC_KHZ, abi.KVM_CAP_KVMCLOCK_CTRL]).toEqual([39, 60, 61, 76]);
    expect([abi.SIZEOF_KVM_CLOCK_DATA, abi.SIZEOF_KVM_MSRS, abi.SIZEOF_KVM_MSR_ENTRY]).toEqual([48, 8, 16]);
  });
  it('guest WRMSR code: mov ecx; mov eax (low half); mov edx (high half); wrmsr; then hlt', () => {
    expect(Array.from(generateWrmsrCode([{ index: 0x4b564d01, value: 0x1_0010_0001n }]))).toEqual([
      0xb9, 0x01, 0x4d, 0x56, 0x4b, 0xb8, 0x01, 0x00, 0x10, 0x00, 0xba, 0x01, 0x00, 0x00, 0x00, 0x0f, 0x30, 0xf4,
    ]);
  });
});

describe('relations instead of machine values', () => {
  test.prop([fc.bigInt({ min: 1_000n, max: 10_000_000_000n })])('"scale=host" is the kvm_get_time_scale() that turns one second of host ticks into 1e9 ns (±1 ns per 2^31), for any rate', (hz) => {
    const { shift, mul } = kvmGetTimeScale(1_000_000_000n, hz);
    const shifted = shift < 0 ? hz >> BigInt(-shift) : hz << BigInt(shift);
    const ns = (shifted * mul) >> 32n; // pvclock_scale_delta()
    expect(ns <= 1_000_000_000n).toBe(true);
    expect(1_000_000_000n - ns).toBeLessThanOrEqual(1_000_000_000n / (1n << 31n) + 2n);
  });
  it('a kHz value is named from the host rate: host, host±d, or absolute when far off', () => {
    expect([relKhz(2_600_000n, 2_600_000n), relKhz(2_601_000n, 2_600_000n), relKhz(2_599_900n, 2_600_000n), relKhz(0xffff_ffffn, 2_600_000n), relKhz(1n, 2_600_000n)]).toEqual([
      'host', 'host+1000', 'host-100', '4294967295', '1',
    ]);
  });
  it('a live kvmclock script must finish well inside KVMCLOCK_UPDATE_DELAY (100 ms), or it is run again', () => {
    // the delayed kvmclock_update_fn would otherwise add a pvclock version the model, which runs
    // a script in no virtual time, cannot have (fixture.ts)
    expect(KVMCLOCK_RUN_BUDGET_MS).toBeLessThan(100);
    expect(KVMCLOCK_RUN_BUDGET_MS).toBeGreaterThanOrEqual(50); // the scripts take 5–40 ms on a quiet host
  });
  it('kvmclockEraFor: before 5.16 the 5.4 kvmclock paths, from 5.16 the 6.18 ones', () => {
    expect(['5.4.0', '5.15.3', '5.16.0', '6.18.44-fc-v669'].map(kvmclockEraFor)).toEqual(['5.4', '5.4', '6.18', '6.18']);
  });
});

describe.skipIf(newest === undefined)('kvmclock steps against the recording', () => {
  const f = newest!;
  it(`the recorded run checks every kvmclock step (${total}): 0 mismatches, one documented era difference`, () => {
    const r = runConformance({ fixture: f, scripts: KVMCLOCK_SCRIPTS, kvmclock: kvmclockModel });
    expect(total).toBeGreaterThanOrEqual(40);
    expect(r.counts).toEqual({ steps: total, match: total - 1, era: 1, mismatch: 0 });
    expect(ids(r.rows.filter((x) => x.match === 'era'))).toEqual(['kvmclock-msrs#37']);
    expect(r.skipped).toEqual([]);
  });

  it('the recording holds relations, not machine values (no raw TSC or realtime in any result)', () => {
    const all = KVMCLOCK_SCRIPTS.flatMap((s) => f.results[s.name] ?? []).map((x) => x.facts ?? '').join(' ');
    expect(all).toContain('scale=host');
    expect(all).toContain('realtime≈now');
    // the only long numbers are the script's own absolute rates (0x7fffffff, 0xffffffff kHz)
    expect(all.replaceAll('2147483647', '').replaceAll('4294967295', '')).not.toMatch(/(?<![x\d])\d{7,}/);
  });

  it('as 5.4 the kvmclock model differs from this 6.18 kernel where the releases differ (and at the unexplained double update)', () => {
    const as54: KvmclockModel = { ...kvmclockModel, plugins: ({ tscControl }) => [ptpKvmX86({ kernel: '5.4', tscScaling: tscControl })] };
    const rows = compareWithModel(KVMCLOCK_SCRIPTS, f.results, eraFor(f.uname, f.machine), { uname: f.uname, machine: f.machine, kvmclock: as54 });
    const bad = ids(rows.filter((x) => x.match !== 'yes'));
    // KVM_CAP_ADJUST_CLOCK, GET_CLOCK's REALTIME|HOST_TSC, KVMCLOCK_CTRL on an unbacked area,
    // SET_CLOCK's flags, and every SET_TSC_KHZ refused without TSC scaling.
    for (const id of ['kvmclock-msrs#0', 'kvmclock-msrs#15', 'kvmclock-msrs#45', 'kvmclock-clock#9', 'kvmclock-clock#12', 'kvmclock-tsc-khz#6', 'kvmclock-tsc-khz#10']) {
      expect(bad).toContain(id);
    }
    expect(bad).toHaveLength(40);
  });

  it('a model that writes the area at KVM_SET_MSRS (no request until KVM_RUN) is caught', () => {
    const eager: KvmclockModel = {
      ...kvmclockModel,
      vmm: (hv) => {
        const h = ptpKvmX86Host(hv);
        return { ...h, setMsrs: (v, e) => { const n = h.setMsrs(v, e); h.run(v); return n; } };
      },
    };
    const r = runConformance({ fixture: f, scripts: KVMCLOCK_SCRIPTS, kvmclock: eager });
    expect(ids(r.rows.filter((x) => x.match === 'no'))).toContain('kvmclock-msrs#11');
  });

  it('a model with TSC scaling hardware (this machine has none) is caught in the KVM_SET_TSC_KHZ table', () => {
    const scaling: KvmclockModel = { ...kvmclockModel, plugins: ({ era }) => [ptpKvmX86({ kernel: era, tscScaling: true })] };
    const r = runConformance({ fixture: f, scripts: KVMCLOCK_SCRIPTS, kvmclock: scaling });
    expect(r.counts.mismatch).toBeGreaterThan(5);
  });

  it('without a kvmclock model the kvmclock steps are skipped, with the reason', () => {
    const r = runConformance({ fixture: f, scripts: KVMCLOCK_SCRIPTS });
    expect(r.rows).toEqual([]);
    expect(r.skipped).toHaveLength(total);
    expect(r.skipped[0]!.reason).toMatch(/no kvmclock model/);
  });
});

const avail = isAvailable();
describe.skipIf(!avail.ok)('kvmclock steps on the live kernel', () => {
  it('every kvmclock step runs: 0 mismatches, only documented era differences', () => {
    const r = runConformance({ live: true, scripts: KVMCLOCK_SCRIPTS, kvmclock: kvmclockModel });
    const bad = r.rows.filter((x) => x.match === 'no');
    expect(bad, bad.map((b) => `${b.script}#${b.index} ${b.step}: kernel ${b.kernel}, model ${b.model}`).join('\n')).toEqual([]);
    expect(r.counts.steps).toBe(total);
    for (const row of r.rows.filter((x) => x.match === 'era')) expect(row.era).toBeTruthy();
  });
});
