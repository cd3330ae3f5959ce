/** Types of the public API (checked by tsc -b). */
import type { Plugin, ScenarioDef } from '@kvmlab/hypervisor-core';
import { expectTypeOf } from 'vitest';
import { nvmxCr3, type NvmxCr3Options, type NvmxVariant, scenarios, type VmxOutcome, vmread } from '../src/index.js';

expectTypeOf(nvmxCr3).parameter(0).toEqualTypeOf<NvmxCr3Options | undefined>();
expectTypeOf(nvmxCr3()).toEqualTypeOf<Plugin>();
expectTypeOf<NvmxVariant>().toEqualTypeOf<'pre-fix' | 'rfc-muen' | 'merged'>();
expectTypeOf(scenarios).toEqualTypeOf<readonly ScenarioDef[]>();
expectTypeOf(vmread).returns.toEqualTypeOf<VmxOutcome>();
// @ts-expect-error: an unknown variant is a type error
nvmxCr3({ variant: 'v3' });
