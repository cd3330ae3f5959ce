import type { Plugin, ScenarioDef } from '@kvmlab/hypervisor-core';
import { describe, expectTypeOf, it } from 'vitest';
import { kvmMmuPml, scenarios, type KvmMmuPmlOptions, type Variant, type VmxResult } from '../src/index.js';

describe('public types', () => {
  it('the plugin factory takes the variant and L0 knobs and returns a Plugin', () => {
    expectTypeOf(kvmMmuPml).parameter(0).toEqualTypeOf<KvmMmuPmlOptions | undefined>();
    expectTypeOf(kvmMmuPml()).toEqualTypeOf<Plugin>();
    expectTypeOf<KvmMmuPmlOptions['variant']>().toEqualTypeOf<Variant | undefined>();
    expectTypeOf<Variant>().toEqualTypeOf<'pre-fix' | 'merged'>();
    expectTypeOf(scenarios).toEqualTypeOf<readonly ScenarioDef[]>();
    expectTypeOf<VmxResult['status']>().toEqualTypeOf<'succeed' | 'fail-invalid' | 'fail-valid'>();
  });
});
