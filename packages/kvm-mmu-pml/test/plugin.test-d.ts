import type { NvmxOps, Plugin, ScenarioDef, Vcpu, VmxOutcome } from '@kvmlab/hypervisor-core';
import { describe, expectTypeOf, it } from 'vitest';
import {
  getUcall, kvmMmuPml, NESTED_MMU_HOOKS, scenarios, ucall, ucallProgram, vmlaunch, type KvmMmuPmlOptions, type UcallArgs, type Variant,
  type VmxResult,
} from '../src/index.js';

describe('public types', () => {
  it('the plugin factory takes the variant and L0 knobs and returns a Plugin', () => {
    expectTypeOf(kvmMmuPml).parameter(0).toEqualTypeOf<KvmMmuPmlOptions | undefined>();
    expectTypeOf(kvmMmuPml()).toEqualTypeOf<Plugin>();
    expectTypeOf<KvmMmuPmlOptions['variant']>().toEqualTypeOf<Variant | undefined>();
    expectTypeOf<Variant>().toEqualTypeOf<'pre-fix' | 'merged'>();
    expectTypeOf(scenarios).toEqualTypeOf<readonly ScenarioDef[]>();
  });

  it('the VMX wrappers are hypervisor-core’s under the old names: VmxResult is VmxOutcome (VMsucceed is now "ok", #UD and #GP are outcomes)', () => {
    expectTypeOf<VmxResult>().toEqualTypeOf<VmxOutcome>();
    expectTypeOf<VmxResult['status']>().toEqualTypeOf<'ok' | 'fail-invalid' | 'fail-valid' | 'ud' | 'gp'>();
    expectTypeOf(vmlaunch).toEqualTypeOf<(vcpu: Vcpu) => VmxOutcome>();
  });

  it('ucall takes the struct’s address (RDI); getUcall decodes it from the vCPU', () => {
    expectTypeOf(ucall).toEqualTypeOf<(vcpu: Vcpu, at: bigint, cmd: number, args?: readonly bigint[]) => void>();
    expectTypeOf(getUcall).toEqualTypeOf<(vcpu: Vcpu) => UcallArgs>();
    expectTypeOf<UcallArgs>().toEqualTypeOf<{ readonly cmd: number; readonly args: readonly bigint[] }>();
    expectTypeOf(ucallProgram).parameters.toEqualTypeOf<[at: bigint, cmd: number, args?: readonly bigint[]]>();
  });

  it('the hooks it gives the nested-VMX engine are NvmxOps', () => {
    expectTypeOf(NESTED_MMU_HOOKS).toEqualTypeOf<Partial<NvmxOps>>();
  });
});
