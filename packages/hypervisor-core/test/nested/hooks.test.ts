import { describe, expect, it } from 'vitest';
import { leBytes } from '../../src/bigint.js';
import { CompositionError } from '../../src/errors.js';
import { createHypervisor } from '../../src/hypervisor.js';
import { definePlugin } from '../../src/plugin/define-plugin.js';
import type { PluginContext } from '../../src/plugin/types.js';
import { invept, vmlaunch, vmreadz, vmresume, vmwrite } from '../../src/x86/guest/vmx.js';
import { DEFAULT_NVMX_OPS, NVMX_OPS_TABLE } from '../../src/x86/nested/ops.js';
import type { NvmxOpName, NvmxOps } from '../../src/x86/nested/shapes.js';
import * as F from '../../src/x86/vmcs-fields.js';
import * as C from '../../src/x86/vmx-constants.js';
import { l1WithVmcs, L2_CODE, l2Code, nestedPlugin, rig } from './rig.js';

const compose = (...plugins: ReturnType<typeof definePlugin>[]) => createHypervisor({ arch: 'x86_64', plugins });
const composeError = (...plugins: ReturnType<typeof definePlugin>[]): CompositionError => {
  try {
    compose(...plugins);
  } catch (e) {
    if (e instanceof CompositionError) return e;
    throw e;
  }
  throw new Error('composition succeeded');
};

describe('the hook table (NvmxOps, in the manner of kvm-x86-ops.h)', () => {
  it('lists every hook once; exactly the "default" ones have an engine default', () => {
    const names = NVMX_OPS_TABLE.map((o) => o.name);
    expect(new Set(names).size).toBe(names.length);
    expect(names.sort()).toEqual(['decacheCr3', 'flushPml', 'hardwareEntry', 'invept', 'mmuAllocRoot', 'mmuSyncRoots', 'nestedEptInit',
      'nestedEptUninit', 'nestedLoadCr3', 'pmlAddress', 'prepareVmcs02Cr3', 'vmxSetCr3GuestCr3']);
    const defaults = NVMX_OPS_TABLE.filter((o) => o.kind === 'default').map((o) => o.name).sort();
    expect(defaults).toEqual(Object.keys(DEFAULT_NVMX_OPS).sort());
    for (const o of NVMX_OPS_TABLE) expect(o.models).toMatch(/\w+\.c\b|SDM/);
  });

  it('two plugins filling one hook is a composition error that names both', () => {
    const a = nestedPlugin({}, { nestedLoadCr3: () => {} }, 'a');
    const b = nestedPlugin({}, { nestedLoadCr3: () => {} }, 'b');
    const e = composeError(a, b);
    expect(e.code).toBe('DUPLICATE_EXTENSION');
    expect(e.plugin).toBe('b');
    expect(e.message).toContain('"a"');
    expect(e.message).toContain('nestedLoadCr3');
  });

  it('a name that is not a hook, or a hook that is not a function, is INVALID_PLUGIN', () => {
    expect(composeError(nestedPlugin({}, { nestedVmxRun: () => {} } as unknown as Partial<NvmxOps>)).code).toBe('INVALID_PLUGIN');
    expect(composeError(nestedPlugin({}, { flushPml: 3 } as unknown as Partial<NvmxOps>)).code).toBe('INVALID_PLUGIN');
  });

  it('module parameters: two plugins may fix the same value; different values conflict, naming both', () => {
    expect(() => compose(nestedPlugin({ ept: true }, {}, 'a'), nestedPlugin({ ept: true }, {}, 'b'))).not.toThrow();
    const e = composeError(nestedPlugin({ ept: true }, {}, 'a'), nestedPlugin({ ept: false }, {}, 'b'));
    expect(e.code).toBe('DUPLICATE_EXTENSION');
    expect(e.message).toMatch(/ept = false conflicts with ept = true fixed by "a"/);
    expect(composeError(nestedPlugin({ enableEpt: true } as never)).code).toBe('INVALID_PLUGIN');
  });

  it('exitCostNs: one value per hypervisor; negative or non-bigint refused', () => {
    const cost = (name: string, exitCostNs: unknown) =>
      definePlugin({ name, arch: 'x86_64', setup: (ctx) => void ctx.nestedVmx({ exitCostNs: exitCostNs as bigint }) });
    const hv = compose(cost('a', 500n), cost('b', 500n));
    expect(hv.nestedVmx!.state(hv.createVm().createVcpu(0)).engine.exitCostNs).toBe(500n);
    const d = compose(nestedPlugin());
    expect(d.nestedVmx!.state(d.createVm().createVcpu(0)).engine.exitCostNs).toBe(1000n);
    expect(composeError(cost('a', 500n), cost('b', 600n)).code).toBe('DUPLICATE_EXTENSION');
    expect(composeError(cost('a', -1n)).code).toBe('INVALID_PLUGIN');
    expect(composeError(cost('a', 5)).code).toBe('INVALID_PLUGIN');
  });

  it('a contribution after composition is refused', () => {
    let saved: PluginContext | undefined;
    const p = definePlugin({ name: 'late', arch: 'x86_64', setup: (ctx) => void ((saved = ctx), ctx.nestedVmx({})) });
    compose(p);
    expect(() => saved!.nestedVmx({ ops: { flushPml: () => {} } })).toThrow(CompositionError);
  });

  it('the engine exists only when a plugin asks for it; opsOwners says who fills what', () => {
    expect(compose().nestedVmx).toBeUndefined();
    const hv = compose(nestedPlugin({}, { nestedLoadCr3: () => {} }, 'cr3'), nestedPlugin({}, { flushPml: () => {}, pmlAddress: () => 0x1000n }, 'pml'));
    expect([...hv.nestedVmx!.opsOwners]).toEqual([['nestedLoadCr3', 'cr3'], ['flushPml', 'pml'], ['pmlAddress', 'pml']]);
    expect(hv.nestedVmx!.params.pml).toBe(true); // a PML log exists
    expect(compose(nestedPlugin()).nestedVmx!.params.pml).toBe(false); // none: hardware_setup() turns PML off
  });
});

describe('where each hook is called in a nested round trip (spec nvmx-pml.md §2–§3)', () => {
  /** EPT12: identity 2 MiB pages for the first 16 MiB (WB, 4 levels, A/D). */
  function identityEpt(vcpu: ReturnType<typeof rig>['vcpu'], base: bigint): bigint {
    vcpu.write(base, leBytes(8, (base + 0x1000n) | 7n));
    vcpu.write(base + 0x1000n, leBytes(8, (base + 0x2000n) | 7n));
    for (let i = 0n; i < 8n; i++) vcpu.write(base + 0x2000n + i * 8n, leBytes(8, (i << 21n) | 0x80n | 0x37n));
    return base | 0x5en;
  }

  it('a VMLAUNCH with EPT and an exit back to L1 reach the hooks in the kernel’s order', () => {
    const calls: string[] = [];
    const log = (name: NvmxOpName) => (...args: unknown[]) => {
      const nv = args[0] as { vcpu: { x86: { guestMode: boolean } } };
      calls.push(`${name}${nv.vcpu.x86.guestMode ? '@L2' : '@L1'}`);
    };
    const ops: Partial<NvmxOps> = {
      nestedLoadCr3: log('nestedLoadCr3'), prepareVmcs02Cr3: log('prepareVmcs02Cr3'), nestedEptInit: log('nestedEptInit'),
      nestedEptUninit: log('nestedEptUninit'), flushPml: log('flushPml'), pmlAddress: () => 0x7000_0000n, invept: log('invept'),
      hardwareEntry: (nv, vmcs) => void calls.push(`hardwareEntry(${vmcs === nv.vmcs02 ? 'vmcs02' : 'vmcs01'})`),
    };
    const r = rig({ ops });
    l2Code(r.vcpu, [{ op: 'vmcall' }, { op: 'jmp-start' }]);
    l1WithVmcs(r.vcpu, { guestRip: L2_CODE, eptp: identityEpt(r.vcpu, 0x70_0000n) });
    calls.length = 0;
    vmlaunch(r.vcpu);
    expect(calls).toEqual([
      'flushPml@L1', // vmx_handle_exit() of the VMLAUNCH exit
      'nestedEptInit@L2', 'nestedLoadCr3@L2', 'prepareVmcs02Cr3@L2', // prepare_vmcs02()
      'hardwareEntry(vmcs02)', // vcpu_enter_guest(): the real entry into L2
      'flushPml@L2', // the VMCALL exit
      'nestedEptUninit@L1', 'nestedLoadCr3@L1', // load_vmcs12_host_state()
      'hardwareEntry(vmcs01)', // back into L1
    ]);
    calls.length = 0;
    invept(r.vcpu);
    expect(calls).toEqual(['flushPml@L1', 'invept@L1', 'hardwareEntry(vmcs01)']);
  });

  it('vmxSetCr3GuestCr3 decides what vmx_set_cr3() writes: null leaves GUEST_CR3 in the loaded VMCS alone', () => {
    const r = rig({ ops: { vmxSetCr3GuestCr3: () => null } });
    l2Code(r.vcpu, [{ op: 'vmcall' }, { op: 'jmp-start' }]);
    l1WithVmcs(r.vcpu, { guestRip: L2_CODE, guestCr3: 0xa000n });
    vmlaunch(r.vcpu);
    // nothing ever wrote vmcs02.GUEST_CR3 (no prepareVmcs02Cr3, no vmx_set_cr3 write): L1 reads 0 back
    expect(vmreadz(r.vcpu, F.GUEST_CR3)).toBe(0n);
    const d = rig();
    l2Code(d.vcpu, [{ op: 'vmcall' }, { op: 'jmp-start' }]);
    l1WithVmcs(d.vcpu, { guestRip: L2_CODE, guestCr3: 0xa000n });
    vmlaunch(d.vcpu);
    expect(vmreadz(d.vcpu, F.GUEST_CR3)).toBe(0xa000n); // the default: kvm_read_cr3()
  });

  it('mmuAllocRoot builds roots for L1 (root_mmu) and for EPT12 (guest_mmu); EPT_POINTER of vmcs02 points at the latter', () => {
    const seen: string[] = [];
    const r = rig({ ops: { mmuAllocRoot: (_nv, mmu, key) => (seen.push(`${mmu}:${key.toString(16)}`), mmu === 'guest_mmu' ? 0x5550_0000n : 0x4440_0000n) } });
    l2Code(r.vcpu, [{ op: 'vmcall' }, { op: 'jmp-start' }]);
    const eptp = identityEpt(r.vcpu, 0x70_0000n);
    l1WithVmcs(r.vcpu, { guestRip: L2_CODE, eptp });
    vmlaunch(r.vcpu);
    expect(seen).toContain(`guest_mmu:${eptp.toString(16)}`);
    const nv = r.nested.state(r.vcpu);
    expect(nv.vmcs02.peek(F.EPT_POINTER) & ~0xfffn).toBe(0x5550_0000n);
    expect(nv.vmcs01.peek(F.EPT_POINTER) & ~0xfffn).toBe(0x4440_0000n);
    // cached_root_available() parks the current root in prev_roots[0] before it looks: the second
    // entry with the same EPTP12 misses and allocates again (KVM finds the same shadow page in its
    // hash); from the third on the root comes from the cache.
    const allocs = () => seen.filter((s) => s.startsWith('guest_mmu')).length;
    const counts = [allocs()];
    for (let i = 0; i < 3; i++) {
      vmwrite(r.vcpu, F.GUEST_RIP, vmreadz(r.vcpu, F.GUEST_RIP) + 3n);
      vmresume(r.vcpu);
      expect(Number(vmreadz(r.vcpu, F.VM_EXIT_REASON))).toBe(C.EXIT_REASON_VMCALL);
      counts.push(allocs());
    }
    expect(counts).toEqual([1, 2, 2, 2]);
  });
});
