// Type tests for the public factories (checked by `tsc -b`, not run).
import type { Plugin, ScenarioDef, Vcpu } from '@kvmlab/hypervisor-core';
import type { PtpKvmArchHooks, PtpSyncArchAdapter } from '@kvmlab/ptp-kvm-core';
import { expectTypeOf } from 'vitest';
import {
  ptpKvmX86,
  ptpKvmX86Host,
  scenarios,
  x86PtpSyncAdapter,
  type PtpKvmX86Guest,
  type PtpKvmX86Options,
  type X86GuestCpu,
} from '../src/index.js';

expectTypeOf(ptpKvmX86()).toEqualTypeOf<Plugin>();
expectTypeOf(ptpKvmX86).parameter(0).toEqualTypeOf<PtpKvmX86Options | undefined>();
expectTypeOf<PtpKvmX86Guest>().toMatchTypeOf<PtpKvmArchHooks>();
expectTypeOf<Vcpu>().toMatchTypeOf<X86GuestCpu>();
expectTypeOf(x86PtpSyncAdapter()).toMatchTypeOf<PtpSyncArchAdapter>();
expectTypeOf(scenarios).toEqualTypeOf<readonly ScenarioDef[]>();
// @ts-expect-error a TSC rate is a bigint or a number of kHz, not a string
ptpKvmX86Host(undefined as never).setTscKhz(undefined as never, '1000');
