/**
 * L0's x86 MMU for one VM with dirty logging by PML or write protection: L1 on TDP (L0's EPT
 * for L1), L2 on shadow EPT built from L1's EPT12, one rmap per L1 gfn. Installed through
 * core's `ctx.setMmu`; every guest access goes through the CPU model in cpu.ts.
 */
import {
  EPT_ADDR_MASK,
  eptpAdEnabled,
  type Memslot,
  type MemslotChange,
  type Mmu,
  type NestedVcpuState,
  type NestedVmxApi,
  PageMap,
  type Vcpu,
  type Vm,
} from '@kvmlab/hypervisor-core';
import type { L0Config } from './config.js';
import { cpuRead, cpuWrite, cpuWriteU64 } from './cpu.js';
import { enableLogDirtyPtMasked, slotApplyFlags } from './dirty-log.js';
import { Ept12Tracker } from './ept12-tracking.js';
import { Rmap, type Spte, type SpteTable, type TableKind } from './mmu-pages.js';
import { vmxFlushPmlBuffer } from './pml.js';
import type { KvmMmuState, KvmMmuStats, MmuObservers } from './shapes.js';
import { VcpuVmx } from './vcpu-vmx.js';

/** Host-physical addresses the model hands out for roots and PML pages (fake, 4 KiB apart). */
const HPA_BASE = 0x7f00_0000_0000n;


export type { KvmMmuStats } from './shapes.js';

export class KvmMmuPml implements Mmu, KvmMmuState {
  readonly name = 'kvm-mmu-pml';
  readonly vm: Vm;
  readonly cfg: L0Config;
  /** The nested-VMX engine this MMU serves (vmcs01, vmcs02, vmcs12, nested exits). */
  readonly nested: NestedVmxApi;
  readonly rmap = new Rmap();
  readonly tracker = new Ept12Tracker();
  readonly tdp: SpteTable;
  readonly stats: KvmMmuStats = { sptesSet: 0, gfnsMarked: 0, gfnsDropped: 0, hostPfnsDirtied: 0, kicks: 0, zapped: 0 };
  /** Set a watcher here to see guest stores and PML flushes (the model never reads them). */
  readonly observers: MmuObservers = {};
  private readonly tables = new Map<bigint, SpteTable>();
  private readonly shadowByEptp = new Map<string, SpteTable>();
  private readonly vcpus = new Map<Vcpu, VcpuVmx>();
  private nextHpa = HPA_BASE;
  private lastVmx: VcpuVmx | undefined = undefined;

  constructor(vm: Vm, cfg: L0Config, nested: NestedVmxApi) {
    this.vm = vm;
    this.cfg = cfg;
    this.nested = nested;
    // root_mmu: TDP with A/D iff ept_ad (kvm_mmu_get_page role.ad_disabled = !shadow_accessed_mask)
    this.tdp = this.newTable('tdp', !cfg.eptAd, undefined);
  }

  private allocHpa(): bigint {
    const a = this.nextHpa;
    this.nextHpa += 0x1000n;
    return a;
  }

  private newTable(kind: TableKind, adDisabled: boolean, eptp12: bigint | undefined): SpteTable {
    const t: SpteTable = { root: this.allocHpa(), kind, adDisabled, eptp12, entries: new PageMap<Spte>() };
    this.tables.set(t.root, t);
    return t;
  }

  /** The table whose root is `hpa` (what the CPU finds through EPT_POINTER). */
  tableAt(hpa: bigint): SpteTable | undefined {
    return this.tables.get(hpa & EPT_ADDR_MASK);
  }

  // models kvm_init_shadow_ept_mmu() + mmu_alloc_shadow_roots() (mmu.c): one root per EPTP12 and role
  shadowTable(eptp12: bigint): SpteTable {
    const adDisabled = !(this.cfg.eptAd && eptpAdEnabled(eptp12));
    const key = `${eptp12 & EPT_ADDR_MASK}/${adDisabled}`;
    let t = this.shadowByEptp.get(key);
    if (t === undefined) {
      t = this.newTable('shadow-ept', adDisabled, eptp12);
      this.shadowByEptp.set(key, t);
    }
    return t;
  }

  /** L0's per-vCPU dirty-logging state (created with the engine's state, as vmx_create_vcpu() does). */
  vcpuVmx(vcpu: Vcpu): VcpuVmx {
    // every guest access asks: the vCPU of the previous access is usually the one asking
    const last = this.lastVmx;
    if (last !== undefined && last.vcpu === vcpu) return last;
    const v = this.vcpus.get(vcpu) ?? this.vcpuVmxFor(this.nested.state(vcpu));
    this.lastVmx = v;
    return v;
  }

  /** The same, from the engine's state (what the engine's hooks receive). */
  vcpuVmxFor(nv: NestedVcpuState): VcpuVmx {
    let v = this.vcpus.get(nv.vcpu);
    if (v === undefined) {
      v = new VcpuVmx(nv, this.allocHpa(), this.tdp); // vmx->pml_pg
      this.vcpus.set(nv.vcpu, v);
    }
    return v;
  }

  get allVcpus(): readonly VcpuVmx[] {
    return [...this.vcpus.values()];
  }

  // models kvm_vcpu_mark_page_dirty() (virt/kvm/kvm_main.c): the gfn is looked up in L1's slots
  markPageDirty(gfn: number): void {
    this.stats.gfnsMarked++;
    const slot = this.vm.memslots.findByGfnNumber(gfn);
    if (slot === undefined) this.stats.gfnsDropped++;
    else slot.dirtyBitmap?.set(gfn - slot.baseGfnNumber); // mark_page_dirty_in_slot(): no bitmap, no-op
  }

  /** Adds a new leaf to its table and to the rmap of its L1 gfn. */
  link(spte: Spte): void {
    spte.table.entries.set(spte.inGfn, spte);
    this.rmap.add(spte);
  }

  // models drop_spte() (mmu.c); a shadow-EPT leaf also stops pinning the EPT12 pages it came from
  drop(spte: Spte): void {
    spte.table.entries.delete(spte.inGfn);
    this.rmap.remove(spte);
    if (spte.ept12Entries !== undefined) this.tracker.untrack(spte);
    this.stats.zapped++;
  }

  // models kvm_arch_flush_shadow_memslot() (x86.c): a moved or deleted slot loses its leaves
  zapSlot(slot: Memslot): void {
    for (const t of this.tables.values()) {
      for (const s of [...t.entries.values()]) if (s.slot === slot) this.drop(s);
    }
  }

  // models x86_emulate_instruction() of a store to a write-tracked page: kvm_write_guest() (the
  // page is marked dirty) and kvm_page_track_write() → kvm_mmu_pte_write() (stale leaves zapped)
  emulateTrackedWrite(v: VcpuVmx, l1Gpa: bigint, bytes: Uint8Array): void {
    v.exits.trackedWritesEmulated++;
    this.vm.memory.write(l1Gpa, bytes);
    this.markPageDirty(Number(l1Gpa >> 12n));
    this.tracker.written(this, l1Gpa, bytes.length);
  }

  guestWrite(vcpu: Vcpu, gpa: bigint, bytes: Uint8Array): void {
    this.observers.guestStore?.(vcpu, gpa, vcpu.x86.guestMode);
    cpuWrite(this, this.vcpuVmx(vcpu), gpa, bytes);
  }

  guestWriteU64(vcpu: Vcpu, gpa: bigint, value: bigint): void {
    this.observers.guestStore?.(vcpu, gpa, vcpu.x86.guestMode);
    cpuWriteU64(this, this.vcpuVmx(vcpu), gpa, value);
  }

  guestRead(vcpu: Vcpu, gpa: bigint, length: number): Uint8Array {
    return cpuRead(this, this.vcpuVmx(vcpu), gpa, length);
  }

  slotChanged(slot: Memslot, oldFlags: number, change: MemslotChange): void {
    slotApplyFlags(this, slot, oldFlags, change);
  }

  // models kvm_flush_pml_buffers() (vmx.c): kick every vCPU; each exit flushes its PML log
  flushLogs(): void {
    if (!this.cfg.pml) return;
    for (const v of this.vcpus.values()) {
      this.stats.kicks++;
      vmxFlushPmlBuffer(this, v);
    }
  }

  reprotect(slot: Memslot, firstPage: number, mask: number): void {
    enableLogDirtyPtMasked(this, slot, firstPage, mask);
  }
}

/** The L0 state of a VM built with this plugin (for VMMs, tests, reports, and the engine's hooks). */
export function kvmMmuOf(vm: { readonly mmu: unknown }): KvmMmuPml {
  const m = vm.mmu;
  if (!(m instanceof KvmMmuPml)) throw new TypeError('this VM does not run the kvm-mmu-pml MMU');
  return m;
}
