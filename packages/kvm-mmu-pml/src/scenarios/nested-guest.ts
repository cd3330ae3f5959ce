/**
 * The guests of the nested-migration scenario, written against the architectural boundary
 * only: L1 builds EPT12 in its own memory (2 MiB leaves, L2 chunks shuffled over an L1 region, so
 * L2 GPA ≠ L1 GPA), enters VMX operation and launches an L2 whose code is a JS guest program
 * that stores to the pages it is given and then leaves with VMCALL; L1 writes its own memory in
 * between. The guests know their own mapping, which gives the test oracle: the L1 pages written.
 */
import {
  EPT_LARGE_PAGE, EPT_POINTER, leBytes, loadVmcs, makeEptp, MSR_IA32_VMX_EPT_VPID_CAP, prepareForVmxOperation, prepareVmcs,
  type Rng, type Vcpu, VMX_EPT_AD_BIT, VMX_EPT_MT_EPTE_SHIFT, VMX_EPT_MT_WB, VMX_EPT_RWX_MASK, vmlaunch, vmresume, vmwrite, type X86Insn,
} from '@kvmlab/hypervisor-core';
import { l2StoreProgram } from './l2-store-program.js';
import { PageSet } from './page-set.js';

const MiB = 1n << 20n;
const CHUNK = 2n * MiB;
const CHUNK_BYTES = Number(CHUNK);

export interface NestedLayout {
  /** L1 GPA of EPT12's tables (one PML4, one PDPT, one PD per GiB of L2). */
  readonly tablesBase: bigint;
  /** L1 region backing L2, and L2's size (both multiples of 2 MiB). */
  readonly l1Base: bigint;
  readonly l2Bytes: bigint;
  /** L1's own busy memory ("kernel"). */
  readonly kernelBase: bigint;
  readonly kernelBytes: bigint;
  /** L2 chunk c lives at L1 chunk perm[c] of the region. */
  readonly perm: readonly number[];
}

/** Where L1 keeps its VMXON regions and VMCSs (one each per vCPU), below its kernel memory. */
const VMXON_BASE = 0x10_0000n;
const VMCS_BASE = 0x20_0000n;
/** GUEST_RIP of vCPU i's L2: the address its program is loaded at (an L2 address no data page uses). */
export const l2ProgramRip = (i: number): bigint => 0x1000n + BigInt(i) * 0x1000n;

export function shuffledChunks(rng: Rng, n: number): number[] {
  const p = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(0, i);
    [p[i], p[j]] = [p[j]!, p[i]!];
  }
  return p;
}

const wr64 = (vcpu: Vcpu, gpa: bigint, v: bigint): void => vcpu.write(gpa, leBytes(8, v));

/** L1 writes EPT12 with its own stores (so its table pages are dirty-tracked like any page). */
export function l1BuildEpt12(vcpu: Vcpu, l: NestedLayout, ad: boolean): bigint {
  const rwx = VMX_EPT_RWX_MASK;
  const pml4 = l.tablesBase;
  const pdpt = pml4 + 0x1000n;
  wr64(vcpu, pml4, pdpt | rwx);
  const gibs = Number((l.l2Bytes + (1n << 30n) - 1n) >> 30n);
  for (let g = 0; g < gibs; g++) wr64(vcpu, pdpt + BigInt(g) * 8n, (pdpt + 0x1000n * BigInt(g + 1)) | rwx);
  const chunks = Number(l.l2Bytes / CHUNK);
  for (let c = 0; c < chunks; c++) {
    const pd = pdpt + 0x1000n * BigInt(Math.floor(c / 512) + 1);
    const target = l.l1Base + BigInt(l.perm[c]!) * CHUNK;
    wr64(vcpu, pd + BigInt(c % 512) * 8n, target | rwx | EPT_LARGE_PAGE | (VMX_EPT_MT_WB << VMX_EPT_MT_EPTE_SHIFT));
  }
  return makeEptp(pml4, ad);
}

/** Whether L0 offers EPT A/D to L1 (IA32_VMX_EPT_VPID_CAP bit 21). */
export const eptAdOffered = (vcpu: Vcpu): boolean => ((vcpu.rdmsr(MSR_IA32_VMX_EPT_VPID_CAP) ?? 0n) & VMX_EPT_AD_BIT) !== 0n;

export interface WorkloadSpec {
  readonly wssBytes: bigint;
  readonly hotBytes: bigint;
  readonly hotFraction: number;
}

/** The page counts of the last spec pickPageNumber saw (a run draws tens of thousands of pages from one spec). */
let lastSpec: { readonly w: WorkloadSpec; readonly wssPages: number; readonly hotPages: number } | undefined;

/** Picks the page a write goes to: hot set with probability hotFraction, else the rest of the WSS. */
export function pickPageNumber(rng: Rng, w: WorkloadSpec): number {
  if (lastSpec?.w !== w) {
    const wssPages = Number(w.wssBytes >> 12n);
    lastSpec = { w, wssPages, hotPages: Math.min(wssPages, Number(w.hotBytes >> 12n)) };
  }
  const { wssPages, hotPages } = lastSpec;
  const hot = hotPages > 0 && (hotPages === wssPages || rng.chance(w.hotFraction));
  return hot ? rng.int(0, hotPages - 1) : rng.int(hotPages, wssPages - 1);
}

export { L2_STORES_PER_RUN } from './l2-store-program.js';

/**
 * One vCPU's guests: L1 and its L2. The L2 program stores, each time L1 resumes it, to the pages
 * queued for it, then VMCALLs back; the stored values count up, so a page's content changes with
 * every store (and a lost page shows).
 */
export class GuestDriver {
  /**
   * The next value stored: a number, made a bigint per store (cheaper than a bigint increment).
   * A run makes far fewer than 2^53 stores, so it counts exactly as a bigint would.
   */
  private counter = 1;
  /** L1 pages written since the oracle was last reset (gfn numbers). */
  readonly writtenL1 = new PageSet();
  writes = 0;
  /** L2 addresses queued for L2's next run. */
  private readonly l2Queue: bigint[] = [];
  private launched = false;
  /**
   * The layout's addresses as numbers (L1 is at most 1 TiB: exact in a double), so a store's
   * address is worked out in doubles and made a bigint once, as the instruction's operand.
   */
  private readonly l1Base: number;
  private readonly kernelBase: number;
  private readonly kernelPages: number;

  constructor(readonly vcpu: Vcpu, readonly layout: NestedLayout, readonly rng: Rng, readonly index = 0) {
    this.l1Base = Number(layout.l1Base);
    this.kernelBase = Number(layout.kernelBase);
    this.kernelPages = Number(layout.kernelBytes >> 12n);
  }

  /** The L1 GPA behind an L2 GPA, as L1's own EPT12 says. */
  private l1Of(l2Gpa: number): number {
    const c = Math.floor(l2Gpa / CHUNK_BYTES);
    return this.l1Base + this.layout.perm[c]! * CHUNK_BYTES + (l2Gpa - c * CHUNK_BYTES);
  }

  /** The L2 program (loaded at l2ProgramRip(index)): drain the queue, VMCALL, repeat (l2-store-program.ts). */
  readonly program = (): Iterator<X86Insn, void, bigint> => l2StoreProgram({ l2Queue: this.l2Queue, nextValue: () => BigInt(this.counter++) });

  /** Stores still queued for L2 (L1 resumes it until none are left). */
  get queuedL2Stores(): number {
    return this.l2Queue.length;
  }

  private note(l1Gpa: number): void {
    this.writtenL1.add(Math.floor(l1Gpa / 4096));
    this.writes++;
  }

  /** L1 enters VMX operation, describes L2 (with EPT12, or without it: L2 on L1's addresses) and launches it. */
  launch(eptp12: bigint, useEpt12: boolean): boolean {
    const v = this.vcpu;
    const i = BigInt(this.index);
    if (!prepareForVmxOperation(v, VMXON_BASE + i * 0x1000n) || !loadVmcs(v, VMCS_BASE + i * 0x1000n)) return false;
    if (!prepareVmcs(v, { guestRip: l2ProgramRip(this.index), ...(useEpt12 ? { eptp: eptp12 } : {}) })) return false;
    // Without EPT12 vmcs12.EPT_POINTER still holds EPTP12: construct_eptp() takes EPTP02's A/D bit
    // from it even then (spec case 26), and with bit 6 clear L2's writes would set no D and log nothing.
    if (!useEpt12 && vmwrite(v, EPT_POINTER, eptp12).status !== 'ok') return false;
    const r = vmlaunch(v);
    this.launched = r.status === 'ok';
    return this.launched;
  }

  /** Queue a store by L2 to its page `page` (an L2 GPA with EPT12, an L1 GPA without). */
  l2Write(page: bigint | number, useEpt12: boolean): void {
    const l2 = Number(page) * 4096;
    const l1 = this.l1Of(l2);
    const off = this.rng.int(0, 511) * 8;
    this.l2Queue.push(BigInt((useEpt12 ? l2 : l1) + off));
    this.note(l1);
  }

  /** L1 resumes L2, which runs its queued stores and VMCALLs back. */
  resumeL2(): boolean {
    return this.launched && vmresume(this.vcpu).status === 'ok';
  }

  /** L1 stores to the same data pages directly (the plain, non-nested workload). */
  l1WriteData(page: bigint | number): void {
    const l1 = this.l1Of(Number(page) * 4096);
    wr64(this.vcpu, BigInt(l1 + this.rng.int(0, 511) * 8), BigInt(this.counter++));
    this.note(l1);
  }

  /** L1 stores to its own kernel memory. */
  l1WriteKernel(): void {
    const gpa = this.kernelBase + this.rng.int(0, this.kernelPages - 1) * 4096;
    wr64(this.vcpu, BigInt(gpa + this.rng.int(0, 511) * 8), BigInt(this.counter++));
    this.note(gpa);
  }
}
