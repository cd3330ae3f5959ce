/**
 * The shapes the MMU's mechanisms share, types only: what a fault handler, the CPU model, the
 * dirty-log code and the PML flush need of the MMU (KvmMmuPml implements it), and the outcome of
 * an exit taken inside an access. The mechanisms import these and never kvm-mmu.ts, so each
 * reads on its own: shapes → mechanisms (cpu, exits, faults, set-spte, dirty-log, pml) → kvm-mmu → plugin.
 */
import type { Memslot, NestedVmxApi, Vcpu, Vm } from '@kvmlab/hypervisor-core';
import type { L0Config } from './config.js';
import type { Ept12Tracker } from './ept12-tracking.js';
import type { Rmap, Spte, SpteTable } from './mmu-pages.js';
import type { VcpuVmx } from './vcpu-vmx.js';

export interface KvmMmuStats {
  /** set_spte() calls that created or rewrote a leaf. */
  sptesSet: number;
  /** kvm_vcpu_mark_page_dirty() calls from the MMU (set_spte, fast path, PML flush). */
  gfnsMarked: number;
  /** Of those, gfns that fell in no L1 memslot (nothing marked). */
  gfnsDropped: number;
  /** kvm_set_pfn_dirty() calls (host page dirtied by a write-protect of a writable SPTE). */
  hostPfnsDirtied: number;
  /** Kicks of running vCPUs before a harvest (kvm_flush_pml_buffers). */
  kicks: number;
  /** SPTEs dropped by zaps (slot moves/deletes, L1 stores to its EPT12 tables). */
  zapped: number;
}

/** L0's MMU of one VM as its mechanisms see it (struct kvm_arch's MMU part, and kvm_mmu helpers). */
export interface KvmMmuState {
  readonly vm: Vm;
  readonly cfg: L0Config;
  /** The nested-VMX engine this MMU serves (vmcs01, vmcs02, vmcs12, nested exits). */
  readonly nested: NestedVmxApi;
  readonly rmap: Rmap;
  readonly tracker: Ept12Tracker;
  /** root_mmu's TDP table (L0's EPT for L1). */
  readonly tdp: SpteTable;
  readonly stats: KvmMmuStats;
  /** The table whose root is `hpa` (what the CPU finds through EPT_POINTER). */
  tableAt(hpa: bigint): SpteTable | undefined;
  /** The shadow-EPT table for EPTP12 (one per EPTP12 and role). */
  shadowTable(eptp12: bigint): SpteTable;
  /** kvm_vcpu_mark_page_dirty() of an L1 gfn. */
  markPageDirty(gfn: number): void;
  /** A new leaf into its table and the rmap. */
  link(spte: Spte): void;
  /** drop_spte(). */
  drop(spte: Spte): void;
  /** kvm_arch_flush_shadow_memslot(). */
  zapSlot(slot: Memslot): void;
  /** L0 emulating a store into a write-tracked L1 page. */
  emulateTrackedWrite(v: VcpuVmx, l1Gpa: bigint, bytes: Uint8Array): void;
  /** Watchers (tests, scenarios that report what happened): called, never consulted. */
  readonly observers: MmuObservers;
}

/** What a scenario may watch the MMU do; observers change nothing in the model. */
export interface MmuObservers {
  /** A guest store (L1, or L2 when `l2`) at `gpa` (an L2 GPA when `l2`). */
  guestStore?: ((vcpu: Vcpu, gpa: bigint, l2: boolean) => void) | undefined;
  /** vmx_flush_pml_buffer(): the GPAs the log held, as KVM marks them. */
  pmlFlush?: ((vcpu: Vcpu, gpas: readonly bigint[]) => void) | undefined;
}

/**
 * 'retry': re-execute the access; 'mmio': emulate it as MMIO; 'reflected': L1 now runs;
 * `{ emulate }`: L0 emulates the store into that L1 page (a write-tracked EPT12 page).
 */
export type ExitResult = 'retry' | 'mmio' | 'reflected' | { readonly emulate: bigint };
