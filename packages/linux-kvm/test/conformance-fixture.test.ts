import { KERNEL_ERAS, WriteProtectMmu, definePlugin, isKvmError, type Plugin } from '@kvmlab/hypervisor-core';
import { errnoError } from '../src/ffi/libc.js';
import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { compareWithModel, runConformance, SCRIPTS } from '../src/conform/conformance.js';
import { eraFor, loadFixtures, runScript } from '../src/conform/fixture.js';
import { ModelTarget } from '../src/conform/model-target.js';
import { kvmclockModel } from './kvmclock-model.js';
import { bitmapToRanges, parseRanges, rangesToBitmap } from '../src/conform/script.js';

const RUNS = process.env['KVMLAB_SOAK'] ? 1000 : 80;
const fixtures = loadFixtures();

describe('the model against recorded kernels', () => {
  it('at least one recording is committed', () => {
    expect(fixtures.length).toBeGreaterThan(0);
  });

  for (const f of fixtures) {
    describe(`kernel ${f.uname}`, () => {
      it('every script it recorded has one result per step (re-record after editing a script); the newest has every script', () => {
        for (const s of SCRIPTS) if (f.results[s.name] !== undefined || f === fixtures.at(-1)) expect(f.results[s.name]?.length, s.name).toBe(s.steps.length);
      });

      it('the model (following this kernel\'s era) gives every answer the kernel gave, except documented era differences', () => {
        const r = runConformance({ fixture: f, kvmclock: kvmclockModel });
        const bad = r.rows.filter((row) => row.match === 'no');
        expect(bad, bad.map((b) => `${b.script}#${b.index} ${b.step}: kernel ${b.kernel}, model ${b.model}`).join('\n')).toEqual([]);
        expect(r.counts.steps + r.skipped.length).toBe(SCRIPTS.reduce((n, s) => n + s.steps.length, 0));
        expect(r.skipped.every((s) => f.results[s.script] === undefined)).toBe(true);
        for (const row of r.rows.filter((x) => x.match === 'era')) expect(row.era).toBeTruthy();
      });

      it('plugins go into the model: a plugin\'s MMU sees the scripts\' guest stores, answers unchanged', () => {
        let stores = 0;
        const counting = (): Plugin[] => [
          definePlugin({
            name: 'counting-mmu',
            arch: 'x86_64',
            setup(ctx) {
              ctx.setMmu((vm) => {
                const inner = new WriteProtectMmu(vm);
                return {
                  name: 'counting',
                  guestWrite: (v, gpa, b) => {
                    stores++;
                    inner.guestWrite(v, gpa, b);
                  },
                  guestRead: (v, gpa, n) => inner.guestRead(v, gpa, n),
                };
              });
            },
          }),
        ];
        const r = runConformance({ fixture: f, plugins: counting });
        expect(r.counts.mismatch).toBe(0);
        expect(stores).toBeGreaterThan(20);
      });

      it('the era option matters: as 5.4 the model differs from this kernel exactly where the limits changed', () => {
        if (eraFor(f.uname, f.machine).name === '5.4') return;
        const rows = compareWithModel(SCRIPTS.filter((s) => s.needs === undefined), f.results, KERNEL_ERAS['5.4']).filter((r) => r.match === 'no');
        // The README's era table: NR_VCPUS, NR_MEMSLOTS, MAX_VCPUS, MULTI_ADDRESS_SPACE,
        // MAX_VCPU_ID and MANUAL_DIRTY_LOG_PROTECT2 (1 before 5.7) on both fds; slot ids 509 and
        // 32763; address space 1; slots beyond 2^52; GET and CLEAR of slot 600 and of address
        // space 1; INITIALLY_SET refused (5.7+), so its script's bitmaps start clean. vCPU id 288
        // is no difference: 5.4 takes ids below KVM_MAX_VCPU_ID = 1023 too.
        expect(rows.map((r) => `${r.script}#${r.index}`)).toEqual([
          'caps#1', 'caps#2', 'caps#7', 'caps#12', 'caps#13', 'caps#15', 'caps#18', 'caps#19', 'caps#24', 'caps#29', 'caps#30', 'caps#32',
          'memslots#9', 'memslots#10', 'memslots#13', 'memslots#35', 'memslots#36',
          'dirty-get#14', 'dirty-get#16', 'dirty-clear#38', 'dirty-clear#39',
          'dirty-initially-set#0', 'dirty-initially-set#2', 'dirty-initially-set#4', 'dirty-initially-set#6', 'dirty-initially-set#8',
          'dirty-initially-set#14', 'dirty-initially-set#17',
        ]);
      });
    });
  }
});

describe('era selection and errors', () => {
  it('eraFor: 5.x up to 5.4 is the 5.4 era; later kernels take 6.18 with the machine\'s CPUs and address spaces', () => {
    const m = { apiVersion: 12, nrVcpus: 8, multiAddressSpace: 2 };
    expect(eraFor('5.4.0-150-generic', m)).toBe(KERNEL_ERAS['5.4']);
    expect(eraFor('4.19.0', m)).toBe(KERNEL_ERAS['5.4']);
    expect(eraFor('6.18.44-fc-v657', { ...m, multiAddressSpace: 0 })).toMatchObject({ userMemSlots: 32764, nrVcpus: 8, addressSpaces: 1, maxGpaBits: 52 });
    expect(eraFor('6.8.0', m)).toMatchObject({ nrVcpus: 8, addressSpaces: 2 });
  });

  it('errnoError: a known errno is core\'s KvmError, an unknown one a plain Error naming the number', () => {
    const e = errnoError('KVM_RUN', 4);
    expect(isKvmError(e, 'EINTR')).toBe(true);
    const u = errnoError('KVM_RUN', 200);
    expect(isKvmError(u)).toBe(false);
    expect(u.message).toContain('200');
  });
});

describe('script helpers', () => {
  it('case: page ranges with steps', () => {
    expect(parseRanges('0-3,7,10-20/5')).toEqual([0, 1, 2, 3, 7, 10, 15, 20]);
    expect(parseRanges('')).toEqual([]);
    expect(() => parseRanges('x')).toThrow();
  });

  test.prop([fc.uint8Array({ minLength: 0, maxLength: 300 })], { numRuns: RUNS })(
    'a bitmap survives ranges and back unchanged',
    (bm) => {
      const padded = new Uint8Array(Math.ceil(bm.length / 8) * 8);
      padded.set(bm);
      expect(rangesToBitmap(bitmapToRanges(padded), padded.length)).toEqual(padded);
    },
  );

  it('model runs are deterministic: same script, same results', () => {
    const kc = { host: { counterHz: 2_600_000_000n }, kvmclock: kvmclockModel.vmm };
    const target = (s: (typeof SCRIPTS)[number]): ModelTarget =>
      s.needs === 'kvmclock' ? new ModelTarget('6.18', 0, kvmclockModel.plugins({ era: '6.18', tscControl: false }), kc) : new ModelTarget('6.18');
    for (const s of SCRIPTS) expect(runScript(target(s), s)).toEqual(runScript(target(s), s));
  });
});
