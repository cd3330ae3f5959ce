/**
 * Plugin factories and createHypervisor() with options of the wrong type or an unknown key
 * (issue 22): a CompositionError with code INVALID_OPTION (WRONG_ARCH for an unknown arch) naming
 * the plugin and the option, at the call — never a TypeError later, never silently accepted.
 */
import { describe, expect, it } from 'vitest';
import { CompositionError, createHypervisor, type Plugin } from '@kvmlab/hypervisor-core';
import { kvmMmuPml } from '@kvmlab/kvm-mmu-pml';
import { nvmxCr3 } from '@kvmlab/nvmx-cr3';
import { psciConduit } from '@kvmlab/psci-conduit';
import { ptpKvmArm64 } from '@kvmlab/ptp-kvm-arm64';
import { ptpKvmX86 } from '@kvmlab/ptp-kvm-x86';

function compositionError(f: () => unknown): CompositionError {
  try {
    f();
  } catch (e) {
    if (e instanceof CompositionError) return e;
    throw new Error(`expected a CompositionError, got ${String(e)}`, { cause: e });
  }
  throw new Error('expected a CompositionError, nothing was thrown');
}

type Factory = (opts: never) => Plugin;
const cases: [string, Factory, Record<string, unknown>, RegExp][] = [
  ['kvm-mmu-pml', kvmMmuPml as Factory, { variant: 'rfc' }, /unknown variant "rfc": must be one of pre-fix \| merged/],
  ['kvm-mmu-pml', kvmMmuPml as Factory, { enablePml: 'yes' }, /option enablePml "yes" must be true or false/],
  ['kvm-mmu-pml', kvmMmuPml as Factory, { pml: true }, /unknown option "pml"/],
  ['nvmx-cr3', nvmxCr3 as Factory, { variant: 'merged ' }, /unknown variant/],
  ['nvmx-cr3', nvmxCr3 as Factory, { exitCostNs: 1000 }, /option exitCostNs 1000 must be a bigint/],
  ['nvmx-cr3', nvmxCr3 as Factory, { exitCostNs: -1n }, /must be ≥ 0/],
  ['psci-conduit', psciConduit as Factory, { uid: 'qemu' }, /option uid "qemu" must be one of kvm \| 6.16-rc/],
  ['psci-conduit', psciConduit as Factory, { psci02: 1 }, /option psci02 1 must be true or false/],
  ['psci-conduit', psciConduit as Factory, { latency: 5 }, /option latency 5 must be an object/],
  ['ptp-kvm-arm64', ptpKvmArm64 as Factory, { variant: 'rfc-v3' }, /unknown variant "rfc-v3"/],
  ['ptp-kvm-x86', ptpKvmX86 as Factory, { kernel: '5.5' }, /option kernel "5.5" must be one of 5.4 \| 6.18/],
  ['ptp-kvm-x86', ptpKvmX86 as Factory, { tscScaling: undefined, periodicSync: 'daily' }, /option periodicSync "daily" must be an object/],
];

describe('plugin factory options', () => {
  for (const [plugin, factory, opts, message] of cases) {
    it(`${plugin}(${JSON.stringify(opts, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v))}) is INVALID_OPTION`, () => {
      const e = compositionError(() => factory(opts as never));
      expect(e.code).toBe('INVALID_OPTION');
      expect(e.plugin).toBe(plugin);
      expect(e.message).toMatch(message);
    });
  }
  it('options that are not an object are INVALID_OPTION too', () => {
    expect(compositionError(() => kvmMmuPml('merged' as never)).code).toBe('INVALID_OPTION');
    expect(compositionError(() => psciConduit([] as never)).code).toBe('INVALID_OPTION');
  });
  it('the valid options still compose', () => {
    expect(() => createHypervisor({ arch: 'x86_64', plugins: [kvmMmuPml({ variant: 'pre-fix', enablePml: false }), nvmxCr3({ exitCostNs: 0n }), ptpKvmX86({ kernel: '5.4' })] })).not.toThrow();
    expect(() => createHypervisor({ arch: 'arm64', kernel: '5.13', plugins: [psciConduit({ uid: '6.16-rc' }), ptpKvmArm64({ variant: 'rfc-v4' })] })).not.toThrow();
  });
});

describe('createHypervisor options', () => {
  const bad: [Record<string, unknown> | null, string, RegExp][] = [
    [null, 'INVALID_OPTION', /\(options\) null must be an object/],
    [{ arch: 'riscv' }, 'WRONG_ARCH', /unknown arch "riscv"/],
    [{ arch: 'x86_64', seed: 1.5 }, 'INVALID_OPTION', /option seed 1.5 must be a safe integer/],
    [{ arch: 'x86_64', seed: '7' }, 'INVALID_OPTION', /option seed "7" must be a number/],
    [{ arch: 'x86_64', plugins: kvmMmuPml() }, 'INVALID_OPTION', /option plugins .* must be an array of plugins/],
    [{ arch: 'x86_64', plugins: [undefined] }, 'INVALID_OPTION', /option plugins\.0 undefined must be plugins/],
    [{ arch: 'x86_64', host: { counterHz: 2.5e9 } }, 'INVALID_OPTION', /option host\.counterHz 2500000000 must be a bigint/],
    [{ arch: 'x86_64', host: { tsc: 1n } }, 'INVALID_OPTION', /option host/],
    [{ arch: 'x86_64', kernel: 5.4 }, 'INVALID_OPTION', /option kernel 5.4 must be a kernel version string/],
    [{ arch: 'x86_64', backports: 'abc' }, 'INVALID_OPTION', /option backports "abc" must be an array/],
  ];
  for (const [opts, code, message] of bad) {
    it(`${JSON.stringify(opts, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : typeof v === 'object' && v !== null && 'setup' in v ? '<plugin>' : v))}: ${code}`, () => {
      const e = compositionError(() => createHypervisor(opts as never));
      expect(e.code).toBe(code);
      expect(e.message).toMatch(message);
    });
  }
});
