/** Types of the public API (checked by tsc -b). */
import type { NestedVcpu, NvmxOps, Plugin, ScenarioDef, Vcpu } from '@kvmlab/hypervisor-core';
import { expectTypeOf } from 'vitest';
import {
  guestCr3Hooks, NVMX_VARIANTS, nvmxCr3, type NvmxConfig, type NvmxCr3Options, type NvmxService, type NvmxVariant, scenarios,
  type VmxOutcome, vmread,
} from '../src/index.js';

expectTypeOf(nvmxCr3).parameter(0).toEqualTypeOf<NvmxCr3Options | undefined>();
expectTypeOf(nvmxCr3()).toEqualTypeOf<Plugin>();
expectTypeOf<NvmxVariant>().toEqualTypeOf<'pre-fix' | 'rfc-muen' | 'merged'>();
expectTypeOf(NVMX_VARIANTS).toEqualTypeOf<readonly NvmxVariant[]>();
expectTypeOf(scenarios).toEqualTypeOf<readonly ScenarioDef[]>();
expectTypeOf(vmread).returns.toEqualTypeOf<VmxOutcome>();
expectTypeOf<VmxOutcome['status']>().toEqualTypeOf<'ok' | 'fail-invalid' | 'fail-valid' | 'ud' | 'gp'>();

// A variant is exactly a set of engine hooks.
expectTypeOf(guestCr3Hooks).parameter(0).toEqualTypeOf<NvmxVariant>();
expectTypeOf(guestCr3Hooks).returns.toEqualTypeOf<Partial<NvmxOps>>();

// The service the plugin decorates.
expectTypeOf<NvmxService['config']>().toEqualTypeOf<NvmxConfig>();
expectTypeOf<NvmxConfig['variant']>().toEqualTypeOf<NvmxVariant>();
expectTypeOf<NvmxService['nested']>().toEqualTypeOf<(vcpu: Vcpu) => NestedVcpu>();
expectTypeOf<NvmxService['setSregs']>().parameter(1).toEqualTypeOf<{ readonly cr3: bigint; readonly paging?: boolean }>();
expectTypeOf<NvmxService['raiseInterrupt']>().parameters.toEqualTypeOf<[Vcpu, number, bigint]>();
expectTypeOf<NvmxCr3Options>().toEqualTypeOf<{
  readonly variant?: NvmxVariant;
  readonly enableEpt?: boolean;
  readonly unrestrictedGuest?: boolean;
  readonly exitCostNs?: bigint;
}>();

// @ts-expect-error: an unknown variant is a type error
nvmxCr3({ variant: 'v3' });
// @ts-expect-error: so is asking for its hooks
guestCr3Hooks('v3');
// @ts-expect-error: the exit cost is bigint ns, not a number
nvmxCr3({ exitCostNs: 1000 });
// @ts-expect-error: the config is read-only
(null as unknown as NvmxConfig).variant = 'merged';
