/**
 * L0's per-vCPU VMX state that dirty logging needs beside the nested-VMX engine's (which owns
 * vmcs01, vmcs02 and vmcs12): the PML page (vmx->pml_pg), the table the processor walks — the one
 * whose root EPT_POINTER of the loaded VMCS names — and whether L2 runs on shadow EPT.
 */
import {
  EPT_ADDR_MASK, EPT_POINTER, eptpAdEnabled, GUEST_PML_INDEX, HOST_LITTLE_ENDIAN, type NestedVcpuState, PML_ENTITY_NUM,
  SECONDARY_EXEC_ENABLE_EPT, SECONDARY_EXEC_ENABLE_PML, SECONDARY_VM_EXEC_CONTROL, VMX_EPT_ACCESS_BIT, VMX_EPT_DIRTY_BIT,
  VMX_EPT_READABLE_MASK, type Vcpu, type Vmcs,
} from '@kvmlab/hypervisor-core';
import { PT_WRITABLE_MASK } from '../constants.js';
import type { SpteTable } from './mmu-pages.js';

export interface VcpuExitCounts {
  /** Exits this MMU took, by VMX basic exit reason number (EPT violations, PML-full). */
  readonly byReason: Map<number, number>;
  pmlEntriesLogged: number;
  pmlFlushes: number;
  /** gfns the flushes passed to kvm_vcpu_mark_page_dirty (in a slot or not). */
  pmlGfnsFlushed: number;
  writeProtectFaults: number;
  /** L1 stores to EPT12 pages L0 write-tracks, emulated by L0 (kvm_mmu_pte_write). */
  trackedWritesEmulated: number;
}

export class VcpuVmx {
  readonly vcpu: Vcpu;
  /** The engine's nested state of this vCPU (vmcs01, vmcs02, the cached vmcs12). */
  readonly nv: NestedVcpuState;
  /** The PML page: 512 GPAs (u64), host memory at `pmlHpa`. */
  readonly pmlBuffer = new BigUint64Array(PML_ENTITY_NUM);
  /** The same page as 32-bit halves (host byte order), for the CPU's and the flush's number-only path. */
  private readonly pmlHalves = new Uint32Array(this.pmlBuffer.buffer);
  readonly pmlHpa: bigint;
  /** The table the CPU walks: the one whose root EPT_POINTER of the loaded VMCS names. */
  activeTable: SpteTable;
  /** L2 runs on shadow EPT (the engine's MMU is guest_mmu): set by nested_ept_init_mmu_context. */
  nestedEpt = false;
  readonly exits: VcpuExitCounts = {
    byReason: new Map(), pmlEntriesLogged: 0, pmlFlushes: 0, pmlGfnsFlushed: 0, writeProtectFaults: 0, trackedWritesEmulated: 0,
  };
  /** EPTP of the loaded VMCS enables A/D flags (bit 6), as the CPU loaded it at VM entry. */
  adActive = false;
  /** The loaded VMCS enables PML (secondary controls ENABLE_EPT and ENABLE_PML). */
  pmlOn = false;
  /** Bits an SPTE needs for an access to go through without A/D updates (all in bits 31:0: tested on Spte.lo). */
  writeFastMask = 0;
  readFastMask = 0;

  constructor(nv: NestedVcpuState, pmlHpa: bigint, tdp: SpteTable) {
    this.vcpu = nv.vcpu;
    this.nv = nv;
    this.pmlHpa = pmlHpa;
    this.activeTable = tdp;
  }

  /** The loaded VMCS (vmx->loaded_vmcs). */
  get current(): Vmcs {
    return this.nv.loaded;
  }

  /** VM entry: the CPU loads the current VMCS's EPT_POINTER and secondary controls. */
  loadCpu(tableAt: (hpa: bigint) => SpteTable | undefined): void {
    const eptp = this.current.peek(EPT_POINTER);
    const sec = this.current.peek(SECONDARY_VM_EXEC_CONTROL);
    this.adActive = eptpAdEnabled(eptp);
    this.pmlOn = (sec & BigInt(SECONDARY_EXEC_ENABLE_PML)) !== 0n && (sec & BigInt(SECONDARY_EXEC_ENABLE_EPT)) !== 0n;
    const t = tableAt(eptp & EPT_ADDR_MASK);
    if (t !== undefined) this.activeTable = t;
    this.writeFastMask = Number(PT_WRITABLE_MASK | (this.adActive ? VMX_EPT_ACCESS_BIT | VMX_EPT_DIRTY_BIT : 0n));
    this.readFastMask = Number(VMX_EPT_READABLE_MASK | (this.adActive ? VMX_EPT_ACCESS_BIT : 0n));
  }

  /** The CPU logs page `gfn` (its GPA, bits 11:0 clear) in PML entry `idx`. */
  logGfn(idx: number, gfn: number): void {
    if (HOST_LITTLE_ENDIAN && gfn < 2 ** 40) {
      this.pmlHalves[2 * idx] = (gfn << 12) >>> 0; // bits 31:12 of the GPA are gfn's low 20 bits
      this.pmlHalves[2 * idx + 1] = Math.floor(gfn / 2 ** 20);
    } else this.pmlBuffer[idx] = BigInt(gfn) << 12n;
  }

  /** The gfn PML entry `idx` holds (the GPA >> 12), as the flush reads it. */
  loggedGfn(idx: number): number {
    // hi·2^20 + (lo >>> 12) < 2^52: exact in a double for every u64
    if (HOST_LITTLE_ENDIAN) return this.pmlHalves[2 * idx + 1]! * 2 ** 20 + (this.pmlHalves[2 * idx]! >>> 12);
    return Number(this.pmlBuffer[idx]! >> 12n);
  }

  countExit(reason: number): void {
    this.exits.byReason.set(reason, (this.exits.byReason.get(reason) ?? 0) + 1);
  }

  /** The PML index of the loaded VMCS as the CPU sees it. */
  get pmlIndex(): number {
    return Number(this.current.peek(GUEST_PML_INDEX));
  }
}
