// Type tests for the public factories (checked by `tsc -b`, not run).
import type { Plugin, ScenarioDef } from '@kvmlab/hypervisor-core';
import type { PtpKvmArchHooks, PtpSyncArchAdapter } from '@kvmlab/ptp-kvm-core';
import { psciConduit, type PsciConduitOptions } from '@kvmlab/psci-conduit';
import { expectTypeOf } from 'vitest';
import type { PtpKvmArmGuest, PtpKvmArmRfcV4Guest } from '../src/index.js';
import { arm64PtpSyncAdapter, ptpKvmArm64, scenarios, type PtpKvmArm64Variant } from '../src/index.js';

expectTypeOf(ptpKvmArm64).returns.toEqualTypeOf<Plugin>();
expectTypeOf(psciConduit).returns.toEqualTypeOf<Plugin>();
expectTypeOf<PtpKvmArm64Variant>().toEqualTypeOf<'merged' | 'rfc-v4'>();
expectTypeOf<PsciConduitOptions['smcFromGuest']>().toEqualTypeOf<'v6.4' | 'pre-v6.4' | undefined>();
expectTypeOf<PtpKvmArmGuest>().toMatchTypeOf<PtpKvmArchHooks>();
expectTypeOf<PtpKvmArmRfcV4Guest>().toMatchTypeOf<PtpKvmArchHooks>();
expectTypeOf(arm64PtpSyncAdapter).toEqualTypeOf<PtpSyncArchAdapter>();
expectTypeOf(scenarios).toEqualTypeOf<readonly ScenarioDef[]>();
// @ts-expect-error: only the two variants exist
ptpKvmArm64({ variant: 'pre-fix' });
