/**
 * The hook table as data (name, kind, the kernel function it stands for) — what the README shows
 * and what composition checks — and the engine's defaults: Linux 5.3/5.4's own behaviour.
 */
import { CompositionError } from '../../errors.js';
import type { Vm } from '../../vm/vm.js';
import { vmxDecacheCr3 } from './reg-cache.js';
import { defaultVmxSetCr3GuestCr3 } from './set-cr3.js';
import type { KvmMmuName, NestedVcpuState, NvmxOpName, NvmxOps } from './shapes.js';

export interface NvmxOpInfo {
  readonly name: NvmxOpName;
  /** 'default': the engine supplies the 5.3/5.4 behaviour; 'optional': absent means nothing happens there. */
  readonly kind: 'default' | 'optional';
  /** The kernel function the hook stands for (or the place inside it). */
  readonly models: string;
}

/** Every hook, in the order a nested round trip reaches them. */
export const NVMX_OPS_TABLE: readonly NvmxOpInfo[] = [
  { name: 'nestedLoadCr3', kind: 'optional', models: 'nested_vmx_load_cr3(), after its checks (nested.c)' },
  { name: 'nestedEptInit', kind: 'optional', models: 'nested_ept_init_mmu_context() (nested.c)' },
  { name: 'prepareVmcs02Cr3', kind: 'optional', models: 'prepare_vmcs02(), after nested_vmx_load_cr3() (nested.c)' },
  { name: 'mmuAllocRoot', kind: 'default', models: 'mmu_alloc_roots() (mmu.c)' },
  { name: 'mmuSyncRoots', kind: 'optional', models: 'kvm_mmu_sync_roots() for KVM_REQ_MMU_SYNC (mmu.c)' },
  { name: 'vmxSetCr3GuestCr3', kind: 'default', models: 'vmx_set_cr3(), the GUEST_CR3 write (vmx.c)' },
  { name: 'decacheCr3', kind: 'default', models: 'vmx_decache_cr3() behind kvm_read_cr3() (vmx.c)' },
  { name: 'hardwareEntry', kind: 'optional', models: 'the CPU loading EPTP and controls at VM entry (SDM §26.3)' },
  { name: 'pmlAddress', kind: 'optional', models: 'vmx->pml_pg, written into vmcs01 and vmcs02 (vmx.c, nested.c)' },
  { name: 'flushPml', kind: 'optional', models: 'vmx_flush_pml_buffer(), first in vmx_handle_exit() (vmx.c)' },
  { name: 'nestedEptUninit', kind: 'optional', models: 'nested_ept_uninit_mmu_context() (nested.c)' },
  { name: 'invept', kind: 'optional', models: 'handle_invept() after its checks (nested.c; nothing in 5.3/5.4)' },
];

/** Fake host pages for roots, one per (VM, MMU, CR3/EPTP): KVM finds the same shadow page again in its hash. */
const rootPages = new WeakMap<Vm, Map<string, bigint>>();
const ROOT_BASE: Record<KvmMmuName, bigint> = { root_mmu: 0x7e00_0000n, guest_mmu: 0x7f00_0000n };

/** Default mmuAllocRoot(): with EPT, L1's TDP root is one page whatever its CR3; otherwise a root per CR3 or EPTP. */
function defaultMmuAllocRoot(nv: NestedVcpuState, mmu: KvmMmuName, key: bigint): bigint {
  const vm = nv.vcpu.vm;
  let pages = rootPages.get(vm);
  if (pages === undefined) rootPages.set(vm, (pages = new Map()));
  const id = mmu === 'root_mmu' && nv.engine.params.ept ? 'tdp' : `${mmu}/${key}`;
  let hpa = pages.get(id);
  if (hpa === undefined) {
    hpa = ROOT_BASE[mmu] + BigInt(pages.size) * 0x1000n;
    pages.set(id, hpa);
  }
  return hpa;
}

export const DEFAULT_NVMX_OPS: Pick<NvmxOps, 'vmxSetCr3GuestCr3' | 'decacheCr3' | 'mmuAllocRoot'> = {
  vmxSetCr3GuestCr3: defaultVmxSetCr3GuestCr3,
  decacheCr3: vmxDecacheCr3,
  mmuAllocRoot: defaultMmuAllocRoot,
};

const KNOWN = new Set<string>(NVMX_OPS_TABLE.map((o) => o.name));

/** Hooks as plugins filled them, with their owners; a second owner of a hook is a composition error. */
export class NvmxOpsBuilder {
  private readonly filled = new Map<NvmxOpName, { readonly owner: string; readonly fn: unknown }>();

  add(owner: string, ops: Partial<NvmxOps>): void {
    for (const [name, fn] of Object.entries(ops)) {
      if (fn === undefined) continue;
      if (!KNOWN.has(name) || typeof fn !== 'function') throw new CompositionError('INVALID_PLUGIN', owner, `"${name}" is not a nested-VMX hook`);
      const prev = this.filled.get(name as NvmxOpName);
      if (prev !== undefined) {
        throw new CompositionError('DUPLICATE_EXTENSION', owner, `the nested-VMX hook ${name} is already filled by "${prev.owner}"`);
      }
      this.filled.set(name as NvmxOpName, { owner, fn });
    }
  }

  /** Which plugin fills which hook (for reports and the README table). */
  owners(): ReadonlyMap<NvmxOpName, string> {
    return new Map([...this.filled].map(([k, v]) => [k, v.owner]));
  }

  build(): NvmxOps {
    const out: Record<string, unknown> = { ...DEFAULT_NVMX_OPS };
    for (const [name, { fn }] of this.filled) out[name] = fn;
    return out as unknown as NvmxOps;
  }
}
