/**
 * Spec nvmx-pml.md §9, cases 18–34, for both variants (pre-fix = Linux 5.3, merged = 5.4).
 */
import {
  bitmapPages,
  createHypervisor,
  EXIT_REASON_EPT_VIOLATION,
  EXIT_REASON_PML_FULL,
  GUEST_PML_INDEX,
  KVM_MEM_LOG_DIRTY_PAGES,
  KvmError,
  leBytes,
  VMX_EPT_ACCESS_BIT,
  VMX_EPT_DIRTY_BIT,
  VMX_EPT_IPAT_BIT,
  VMX_EPT_MT_EPTE_SHIFT,
  VMX_EPT_MT_WB,
  type Vm,
} from '@kvmlab/hypervisor-core';
import { describe, expect, it } from 'vitest';
import { K53_SPTE_SPECIAL_MASK, PT_WRITABLE_MASK, SPTE_AD_DISABLED_MASK, SPTE_AD_ENABLED_MASK, SPTE_AD_WRPROT_ONLY_MASK, SPTE_SPECIAL_MASK } from '../src/constants.js';
import { kvmMmuOf, kvmMmuPml } from '../src/host/plugin.js';
import { vmxFlushPmlBuffer } from '../src/host/pml.js';
import { spteAdEnabled, spteAdNeedWriteProtect, spteKinds, VARIANTS } from '../src/host/spte.js';
import { runVmxDirtyLogTest } from '../src/scenarios/selftest.js';
import { exitsOf, L1_PAGE0, rig, SLOT1 } from './helpers.js';

function l1Vm(variant: 'pre-fix' | 'merged', pages = 1024): { vm: Vm; vcpu: ReturnType<Vm['createVcpu']> } {
  const hv = createHypervisor({ arch: 'x86_64', plugins: [kvmMmuPml({ variant })] });
  const vm = hv.createVm();
  vm.setUserMemoryRegion({ slot: 0, flags: KVM_MEM_LOG_DIRTY_PAGES, guestPhysAddr: 0n, memorySize: BigInt(pages) * 4096n });
  return { vm, vcpu: vm.createVcpu(0) };
}

describe.each(VARIANTS)('spec §9 cases 18–34 (%s)', (variant) => {
  const pre = variant === 'pre-fix';

  it('case 18: 3-page slot, gfn base+2 marked → 8-byte bitmap, byte 0 = 0x04', () => {
    const r = rig(variant);
    r.m.markPageDirty(0xc0002);
    const bm = r.vm.getDirtyLog(SLOT1);
    expect(bm.length).toBe(8);
    expect(bm[0]).toBe(0x04);
  });

  it('case 19: PML flush with index 511 / 509 / 0xFFFF marks 0 / 2 (entries 510, 511) / 512 pages; index back to 511', () => {
    for (const [idx, expected] of [[511, []], [509, [510, 511]], [0xffff, Array.from({ length: 512 }, (_, i) => i)]] as const) {
      const { vm, vcpu } = l1Vm(variant);
      const m = kvmMmuOf(vm);
      const v = m.vcpuVmx(vcpu);
      for (let i = 0; i < 512; i++) v.pmlBuffer[i] = BigInt(i) << 12n;
      v.current.cpuWrite(GUEST_PML_INDEX, BigInt(idx));
      vmxFlushPmlBuffer(m, v);
      expect(bitmapPages(vm.getDirtyLog(0))).toEqual(expected);
      expect(v.current.peek(GUEST_PML_INDEX)).toBe(511n);
    }
  });

  it('case 20: a D-setting access with index 0xFFFF exits 62 first, the flush takes 512 entries, the retry logs at [511]', () => {
    const { vm, vcpu } = l1Vm(variant);
    const m = kvmMmuOf(vm);
    const v = m.vcpuVmx(vcpu);
    vcpu.write(0x5000n, leBytes(8, 1n)); // creates the leaf (D = 1)
    vm.getDirtyLog(0); // clears D (AD_ENABLED TDP leaf)
    for (let i = 0; i < 512; i++) v.pmlBuffer[i] = BigInt(i + 100) << 12n;
    v.current.cpuWrite(GUEST_PML_INDEX, 0xffffn);
    const flushedBefore = v.exits.pmlGfnsFlushed;
    vcpu.write(0x5000n, leBytes(8, 2n));
    expect(exitsOf(v, EXIT_REASON_PML_FULL)).toBe(1);
    expect(v.exits.pmlGfnsFlushed - flushedBefore).toBe(512);
    expect(v.pmlBuffer[511]).toBe(0x5000n);
    expect(v.current.peek(GUEST_PML_INDEX)).toBe(510n);
    expect(vm.memory.readU64(0x5000n)).toBe(2n);
  });

  it('case 21: an L1 write after GET on an AD_ENABLED leaf is logged by PML with its L1 GPA → the right bit', () => {
    const { vm, vcpu } = l1Vm(variant);
    const v = kvmMmuOf(vm).vcpuVmx(vcpu);
    vcpu.write(0x7000n, leBytes(8, 1n));
    expect(bitmapPages(vm.getDirtyLog(0))).toEqual([7]);
    vcpu.write(0x7000n, leBytes(8, 2n));
    expect(v.pmlBuffer[511]).toBe(0x7000n);
    expect(bitmapPages(vm.getDirtyLog(0))).toEqual([7]);
  });

  it(`case 22: L2 0xc0001000 → L1 0xc0000000, write after GET → ${pre ? 'bit 1 set, bit 0 clear' : 'bit 0 set, bit 1 clear, exit 48'}`, () => {
    const r = rig(variant);
    r.write(0xc0001000n);
    expect(r.get()).toEqual([0]);
    const ev = exitsOf(r.v, EXIT_REASON_EPT_VIOLATION);
    const logged = r.v.exits.pmlEntriesLogged;
    r.write(0xc0001000n, 2n);
    expect(r.vm.memory.readU64(L1_PAGE0)).toBe(2n);
    expect(r.get()).toEqual(pre ? [1] : [0]);
    expect(exitsOf(r.v, EXIT_REASON_EPT_VIOLATION) - ev).toBe(pre ? 0 : 1);
    // pre-fix: the CPU set D on the EPT02 leaf and logged the L2 GPA; merged: PML logged nothing
    expect(r.v.exits.pmlEntriesLogged - logged).toBe(pre ? 1 : 0);
    if (pre) expect(r.v.pmlBuffer[511]).toBe(0xc0001000n);
  });

  it(`case 23: L2 GPA 0x100000000 (no L1 slot) → L1 0xc0000000 → ${pre ? 'no bit set' : 'bit 0 set'}`, () => {
    const r = rig(variant, { l2Gpa: 0x1_0000_0000n });
    r.write(0x1_0000_0000n);
    expect(r.get()).toEqual([0]);
    const dropped = r.m.stats.gfnsDropped;
    r.write(0x1_0000_0000n, 2n);
    expect(r.get()).toEqual(pre ? [] : [0]);
    expect(r.m.stats.gfnsDropped - dropped).toBe(pre ? 1 : 0);
  });

  it('case 24: EPTP12.AD = 0 → AD_DISABLED leaf, write-protected on GET → bit 0', () => {
    const r = rig(variant, { eptp12Ad: false });
    r.write(0xc0001000n);
    const leaf = r.m.rmap.get(0xc0000)[0]!;
    expect(leaf.value & (pre ? K53_SPTE_SPECIAL_MASK : SPTE_SPECIAL_MASK)).toBe(pre ? K53_SPTE_SPECIAL_MASK : SPTE_AD_DISABLED_MASK);
    expect(r.get()).toEqual([0]);
    expect(leaf.value & PT_WRITABLE_MASK).toBe(0n);
    const ev = exitsOf(r.v, EXIT_REASON_EPT_VIOLATION);
    r.write(0xc0001000n, 2n);
    expect(exitsOf(r.v, EXIT_REASON_EPT_VIOLATION) - ev).toBe(1);
    expect(r.get()).toEqual([0]);
    expect(r.v.exits.pmlEntriesLogged).toBe(0);
  });

  it('case 25: L0 enable_pml = 0 → write_protect_pt_masked → bit 0', () => {
    const r = rig(variant, { enablePml: false });
    r.write(0xc0001000n);
    expect(r.get()).toEqual([0]);
    const ev = exitsOf(r.v, EXIT_REASON_EPT_VIOLATION);
    r.write(0xc0001000n, 2n);
    expect(exitsOf(r.v, EXIT_REASON_EPT_VIOLATION) - ev).toBe(1);
    expect(r.get()).toEqual([0]);
    expect(r.v.exits.pmlEntriesLogged).toBe(0);
    expect(r.v.exits.pmlFlushes).toBe(0);
  });

  it('case 26: L2 without EPT12 (vmcs12 EPTP bit 6 = 1) writes L1 GPA G → PML logs G → correct; caveat: bit 6 = 0 → no PML entry', () => {
    const r = rig(variant, { useEpt12: false });
    r.write(L1_PAGE0);
    expect(r.get()).toEqual([0]);
    expect(r.v.nestedEpt).toBe(false);
    r.write(L1_PAGE0, 2n);
    expect(r.v.pmlBuffer[511]).toBe(L1_PAGE0);
    expect(r.get()).toEqual([0]);
    const leaf = r.m.rmap.get(0xc0000)[0]!;
    expect(leaf.table).toBe(r.m.tdp);
    expect(leaf.value & (pre ? K53_SPTE_SPECIAL_MASK : SPTE_SPECIAL_MASK)).toBe(0n); // kind 00
    const c = rig(variant, { useEpt12: false, eptp12Ad: false });
    c.write(L1_PAGE0);
    expect(c.get()).toEqual([0]);
    c.write(L1_PAGE0, 2n);
    expect(c.vm.memory.readU64(L1_PAGE0)).toBe(2n);
    expect(c.v.exits.pmlEntriesLogged).toBe(0);
    expect(c.get()).toEqual([]); // the caveat, as the model runs it (construct_eptp(): no A/D in EPTP02; outside these patches)
  });

  it(`case 27: SPTE kind on creation: guest_mmu / guest_mmu ad_disabled / root_mmu → ${pre ? 'bit 62 = 0 / 1 / 0' : '10 / 01 / 00'}`, () => {
    const kindOf = (eptp12Ad: boolean, nested: boolean): bigint => {
      const r = rig(variant, { eptp12Ad });
      if (nested) r.write(0xc0001000n);
      else r.l1Write(L1_PAGE0);
      const leaves = r.m.rmap.get(0xc0000);
      expect(leaves).toHaveLength(1);
      expect(leaves[0]!.table.kind).toBe(nested ? 'shadow-ept' : 'tdp');
      return leaves[0]!.value & (pre ? K53_SPTE_SPECIAL_MASK : SPTE_SPECIAL_MASK);
    };
    if (pre) expect([kindOf(true, true), kindOf(false, true), kindOf(true, false)]).toEqual([0n, K53_SPTE_SPECIAL_MASK, 0n]);
    else expect([kindOf(true, true), kindOf(false, true), kindOf(true, false)]).toEqual([SPTE_AD_WRPROT_ONLY_MASK, SPTE_AD_DISABLED_MASK, SPTE_AD_ENABLED_MASK]);
  });

  it('case 28: predicates for kinds 00 / 01 / 10 (v5.4): ad_enabled T/F/T, need_write_protect F/T/T', () => {
    const k = spteKinds('merged');
    const kinds = [SPTE_AD_ENABLED_MASK, SPTE_AD_DISABLED_MASK, SPTE_AD_WRPROT_ONLY_MASK];
    expect(kinds.map((b) => spteAdEnabled(k, b | 7n))).toEqual([true, false, true]);
    expect(kinds.map((b) => spteAdNeedWriteProtect(k, b | 7n))).toEqual([false, true, true]);
    const k53 = spteKinds('pre-fix');
    expect([0n, K53_SPTE_SPECIAL_MASK].map((b) => spteAdEnabled(k53, b | 7n))).toEqual([true, false]);
  });

  it('case 29: a read fault through an EPT12 leaf with D = 1 maps writable, D = 1, and marks the gfn at the read', () => {
    const r = rig(variant);
    r.vm.memory.writeU64(L1_PAGE0, 0x1234n);
    expect(r.read(0xc0001000n)).toBe(0x1234n);
    const leaf = r.m.rmap.get(0xc0000)[0]!;
    expect(leaf.value & PT_WRITABLE_MASK).toBe(PT_WRITABLE_MASK);
    expect(leaf.value & VMX_EPT_DIRTY_BIT).toBe(VMX_EPT_DIRTY_BIT);
    expect(r.get()).toEqual([0]);
  });

  it('case 30: a read fault through a clean EPT12 leaf maps read-only; the first write faults, sets D in EPT12, maps writable and marks', () => {
    const r = rig(variant, { leafAd: 0n });
    r.read(0xc0001000n);
    const leaf = r.m.rmap.get(0xc0000)[0]!;
    expect(leaf.value & PT_WRITABLE_MASK).toBe(0n);
    expect(r.vm.memory.readU64(r.leafAddr) & (VMX_EPT_ACCESS_BIT | VMX_EPT_DIRTY_BIT)).toBe(VMX_EPT_ACCESS_BIT); // the walk set A only
    expect(r.get()).toEqual([]);
    const ev = exitsOf(r.v, EXIT_REASON_EPT_VIOLATION);
    r.write(0xc0001000n);
    expect(exitsOf(r.v, EXIT_REASON_EPT_VIOLATION) - ev).toBe(1);
    expect(r.vm.memory.readU64(r.leafAddr) & VMX_EPT_DIRTY_BIT).toBe(VMX_EPT_DIRTY_BIT);
    expect(leaf.value & PT_WRITABLE_MASK).toBe(PT_WRITABLE_MASK);
    expect(r.get()).toEqual([0]);
  });

  it('case 31: manual protect: GET twice with no writes in between returns the same bits, and re-arms nothing', () => {
    const r = rig(variant, { manualProtect: true });
    r.write(0xc0001000n);
    const leaf = r.m.rmap.get(0xc0000)[0]!;
    const before = leaf.value;
    expect(r.get()).toEqual([0]);
    expect(r.get()).toEqual([0]);
    expect(leaf.value).toBe(before); // no D cleared, no W removed
    const ev = exitsOf(r.v, EXIT_REASON_EPT_VIOLATION);
    r.write(0xc0001000n, 2n);
    expect(exitsOf(r.v, EXIT_REASON_EPT_VIOLATION) - ev).toBe(0);
    expect(r.v.exits.pmlEntriesLogged).toBe(0);
  });

  it('case 32: CLEAR with first_page = 1 / num_pages = 65 of 128 / num_pages to the slot end → EINVAL / EINVAL / OK; a failed CLEAR changes nothing', () => {
    const { vm, vcpu } = l1Vm(variant, 128);
    vm.enableManualDirtyLogProtect([1n], 0);
    vcpu.write(0x1000n, leBytes(8, 1n));
    vcpu.write(0x41000n, leBytes(8, 1n));
    const m = kvmMmuOf(vm);
    const leaves = [m.rmap.get(1)[0]!, m.rmap.get(65)[0]!];
    const values = leaves.map((s) => s.value);
    const bm = new Uint8Array(16).fill(0xff);
    const errno = (f: () => void): string | undefined => {
      try {
        f();
        return undefined;
      } catch (e) {
        return e instanceof KvmError ? e.errno : 'other';
      }
    };
    expect(errno(() => vm.clearDirtyLog({ slot: 0, firstPage: 1, numPages: 64, bitmap: bm }))).toBe('EINVAL');
    expect(errno(() => vm.clearDirtyLog({ slot: 0, firstPage: 0, numPages: 65, bitmap: bm }))).toBe('EINVAL');
    expect(bitmapPages(vm.getDirtyLog(0))).toEqual([1, 65]);
    expect(leaves.map((s) => s.value)).toEqual(values);
    expect(errno(() => vm.clearDirtyLog({ slot: 0, firstPage: 64, numPages: 64, bitmap: bm }))).toBeUndefined();
    expect(bitmapPages(vm.getDirtyLog(0))).toEqual([1]);
    // the cleared page is re-armed (PML: D cleared on its AD_ENABLED TDP leaf), the other is not
    expect(leaves[1]!.value & VMX_EPT_DIRTY_BIT).toBe(0n);
    expect(leaves[0]!.value).toBe(values[0]);
  });

  it(`case 31 with CLEAR: manual protect re-arms exactly the cleared page → ${pre ? 'L2’s next write is logged as bit 1' : 'L2’s next write faults (48) and sets bit 0'}`, () => {
    const r = rig(variant, { manualProtect: true });
    r.write(0xc0001000n);
    const bm = r.vm.getDirtyLog(SLOT1);
    expect(bitmapPages(bm)).toEqual([0]);
    r.vm.clearDirtyLog({ slot: SLOT1, firstPage: 0, numPages: 3, bitmap: bm });
    expect(r.get()).toEqual([]);
    const leaf = r.m.rmap.get(0xc0000)[0]!;
    expect(leaf.value & (pre ? VMX_EPT_DIRTY_BIT : PT_WRITABLE_MASK)).toBe(0n); // what __rmap_clear_dirty() took away
    const ev = exitsOf(r.v, EXIT_REASON_EPT_VIOLATION);
    r.write(0xc0001000n, 2n);
    expect(exitsOf(r.v, EXIT_REASON_EPT_VIOLATION) - ev).toBe(pre ? 0 : 1);
    expect(r.get()).toEqual(pre ? [1] : [0]);
  });

  it('L0 ept_ad = 0: leaves are AD_DISABLED without A/D flags, PML is off, GET write-protects and the next store takes fast_page_fault()', () => {
    const hv = createHypervisor({ arch: 'x86_64', plugins: [kvmMmuPml({ variant, eptAd: false })] });
    const vm = hv.createVm();
    vm.setUserMemoryRegion({ slot: 0, flags: KVM_MEM_LOG_DIRTY_PAGES, guestPhysAddr: 0n, memorySize: 1n << 22n });
    const vcpu = vm.createVcpu(0);
    const m = kvmMmuOf(vm);
    const v = m.vcpuVmx(vcpu);
    expect([m.cfg.pml, hv.nestedVmx?.params.pml, hv.nestedVmx?.params.eptAd]).toEqual([false, false, false]);
    vcpu.write(0x5000n, leBytes(8, 1n));
    const leaf = m.rmap.get(5)[0]!;
    expect(leaf.value & (pre ? K53_SPTE_SPECIAL_MASK : SPTE_SPECIAL_MASK)).toBe(pre ? K53_SPTE_SPECIAL_MASK : SPTE_AD_DISABLED_MASK);
    expect(leaf.value & (VMX_EPT_ACCESS_BIT | VMX_EPT_DIRTY_BIT)).toBe(0n);
    expect(bitmapPages(vm.getDirtyLog(0))).toEqual([5]);
    expect(leaf.value & PT_WRITABLE_MASK).toBe(0n);
    vcpu.write(0x5000n, leBytes(8, 2n));
    expect(v.exits.writeProtectFaults).toBe(1);
    expect(leaf.value & PT_WRITABLE_MASK).toBe(PT_WRITABLE_MASK);
    expect(bitmapPages(vm.getDirtyLog(0))).toEqual([5]);
    expect(v.exits.pmlEntriesLogged).toBe(0);
  });

  it('case 33: disabling logging sets D on A/D leaves; W is not restored (a WRPROT_ONLY leaf faults again)', () => {
    const r = rig(variant);
    r.write(0xc0001000n);
    r.get();
    const leaf = r.m.rmap.get(0xc0000)[0]!;
    expect(leaf.value & VMX_EPT_DIRTY_BIT).toBe(pre ? 0n : VMX_EPT_DIRTY_BIT);
    r.vm.setUserMemoryRegion({ slot: SLOT1, flags: 0, guestPhysAddr: L1_PAGE0, memorySize: 3n * 4096n });
    expect(leaf.value & VMX_EPT_DIRTY_BIT).toBe(VMX_EPT_DIRTY_BIT);
    expect(leaf.value & PT_WRITABLE_MASK).toBe(pre ? PT_WRITABLE_MASK : 0n);
    const ev = exitsOf(r.v, EXIT_REASON_EPT_VIOLATION);
    r.write(0xc0001000n, 3n);
    expect(exitsOf(r.v, EXIT_REASON_EPT_VIOLATION) - ev).toBe(pre ? 0 : 1);
    expect(r.vm.memory.readU64(L1_PAGE0)).toBe(3n);
    // a clean read-only leaf (case 30's) gets D too, and still no W
    const c = rig(variant, { leafAd: 0n });
    c.read(0xc0001000n);
    const ro = c.m.rmap.get(0xc0000)[0]!;
    expect(ro.value & (VMX_EPT_DIRTY_BIT | PT_WRITABLE_MASK)).toBe(0n);
    c.vm.setUserMemoryRegion({ slot: SLOT1, flags: 0, guestPhysAddr: L1_PAGE0, memorySize: 3n * 4096n });
    expect(ro.value & (VMX_EPT_DIRTY_BIT | PT_WRITABLE_MASK)).toBe(VMX_EPT_DIRTY_BIT);
  });

  it(`case 34: the selftest sequence ${pre ? 'fails at sync 5 with bits {2}' : 'passes all 7 syncs'}`, () => {
    const rep = runVmxDirtyLogTest({ variant });
    if (pre) {
      expect(rep.failedAt).toBe(5);
      expect(rep.syncs.map((s) => s.passed)).toEqual([true, true, true, true, false]);
      expect(rep.syncs[4]!.dirtyPages).toEqual([2]);
      expect(rep.syncs[4]!.failure).toBe('Page 0 incorrectly reported clean');
      expect(rep.done).toBe(false);
    } else {
      expect(rep.syncs.map((s) => s.passed)).toEqual([true, true, true, true, true, true, true]);
      expect(rep.syncs.map((s) => s.where)).toEqual(['L1', 'L2', 'L2', 'L2', 'L2', 'L2', 'L1']);
      expect(rep.done).toBe(true);
    }
  });

  it('set_spte() gives RAM leaves write-back memory type with IPAT (vmx_get_mt_mask), on TDP and on shadow EPT', () => {
    const r = rig(variant);
    r.l1Write(L1_PAGE0 + 0x1000n);
    r.write(0xc0001000n);
    const tdp = r.m.rmap.get(0xc0001)[0]!;
    const shadow = r.m.rmap.get(0xc0000)[0]!;
    expect([tdp.table.kind, shadow.table.kind]).toEqual(['tdp', 'shadow-ept']);
    for (const s of [tdp, shadow]) {
      expect(s.value & (7n << VMX_EPT_MT_EPTE_SHIFT)).toBe(VMX_EPT_MT_WB << VMX_EPT_MT_EPTE_SHIFT);
      expect(s.value & VMX_EPT_IPAT_BIT).toBe(VMX_EPT_IPAT_BIT);
    }
  });
});

describe('slot changes drop the leaves that mapped the slot', () => {
  it('a moved slot loses its leaves; the next access faults them in at the new place', () => {
    const hv = createHypervisor({ arch: 'x86_64', plugins: [kvmMmuPml()] });
    const vm = hv.createVm();
    vm.setUserMemoryRegion({ slot: 0, flags: 0, guestPhysAddr: 0n, memorySize: 1n << 20n });
    const vcpu = vm.createVcpu(0);
    const m = kvmMmuOf(vm);
    vcpu.write(0x3000n, leBytes(8, 0x55n));
    expect(m.rmap.get(3).length).toBe(1);
    vm.setUserMemoryRegion({ slot: 0, flags: 0, guestPhysAddr: 1n << 20n, memorySize: 1n << 20n });
    expect(m.rmap.get(3).length).toBe(0);
    expect(vcpu.read((1n << 20n) + 0x3000n, 8)).toEqual(leBytes(8, 0x55n));
    expect(m.rmap.get(256 + 3).length).toBe(1);
  });

  it('a store to a read-only slot is an MMIO exit and changes nothing', () => {
    const hv = createHypervisor({ arch: 'x86_64', plugins: [kvmMmuPml()] });
    const vm = hv.createVm();
    vm.setUserMemoryRegion({ slot: 0, flags: 2, guestPhysAddr: 0n, memorySize: 1n << 20n });
    const vcpu = vm.createVcpu(0);
    vcpu.write(0x1000n, leBytes(8, 7n));
    expect(vm.stats.mmioExits).toBe(1);
    expect(vm.memory.readU64(0x1000n)).toBe(0n);
  });

  it('a deleted slot leaves no SPTE and no rmap entry behind; L2’s next access there is MMIO', () => {
    const r = rig('merged');
    r.write(0xc0001000n);
    r.l1Write(L1_PAGE0 + 0x2000n);
    expect(r.m.rmap.get(0xc0000).length).toBe(1);
    expect(r.m.rmap.get(0xc0002).length).toBe(1);
    const shadow = r.m.shadowTable(r.eptp12);
    expect(shadow.entries.has(0xc0001)).toBe(true);
    r.vm.setUserMemoryRegion({ slot: SLOT1, flags: 0, guestPhysAddr: L1_PAGE0, memorySize: 0n });
    expect(r.m.rmap.get(0xc0000).length).toBe(0);
    expect(r.m.rmap.get(0xc0002).length).toBe(0);
    expect(shadow.entries.size).toBe(0);
    expect([...r.m.tdp.entries.keys()].filter((g) => g >= 0xc0000 && g < 0xc0003)).toEqual([]);
    const mmio = r.vm.stats.mmioExits;
    r.write(0xc0001000n, 2n);
    expect(r.vm.stats.mmioExits - mmio).toBe(1);
    expect(r.m.rmap.get(0xc0000).length).toBe(0);
  });
});
