/**
 * Runs ABI script steps against hypervisor-core's model: a fresh x86_64 hypervisor following
 * a kernel era, one VM, guest writes through `vcpu.write` (the MMU path a guest store takes).
 */
import {
  createHypervisor,
  isKvmError,
  type HostOptions,
  type Hypervisor,
  type KernelEraName,
  type KernelLimits,
  type Plugin,
  type Vcpu,
  type Vm,
} from '@kvmlab/hypervisor-core';
import { newKvmclockMemo, runKvmclockCall, type ClockData, type KvmclockPort, type MsrValue } from './kvmclock-port.js';
import { bitmapToRanges, bytesToHex, guestWriteList, rangesToBitmap, u64, type Step, type StepResult } from './script.js';

/**
 * The VMM-side kvmclock calls a kvmclock model offers (ptp-kvm-x86's `ptpKvmX86Host(hv)` has
 * exactly these); every call throws KvmError like the ioctl.
 */
export interface KvmclockVmm {
  run(vcpu: Vcpu, guest?: () => void): void;
  setMsrs(vcpu: Vcpu, entries: readonly MsrValue[]): number;
  getMsrs(vcpu: Vcpu, indices: readonly number[]): MsrValue[];
  getClock(vm: Vm): ClockData;
  setClock(vm: Vm, data: ClockData): void;
  kvmclockCtrl(vcpu: Vcpu): void;
  setTscKhz(vcpu: Vcpu, khz: bigint): void;
  getTscKhz(vcpu: Vcpu): bigint;
}

/**
 * A kvmclock model for the `kvmclock` scripts, passed in by the caller (this package does not
 * depend on feature packages): its plugins for a kernel era and host, and its VMM API.
 */
export interface KvmclockModel {
  plugins(k: { readonly era: '5.4' | '6.18'; readonly tscControl: boolean }): readonly Plugin[];
  vmm(hv: Hypervisor): KvmclockVmm;
}

/** Model virtual time between two kvmclock steps (the kernel's steps take real time). */
export const MODEL_STEP_NS = 20_000n;

export interface AbiTarget {
  readonly kind: 'kernel' | 'model';
  run(step: Step): StepResult;
  close(): void;
}

/** A call's outcome: its value, or the KvmError's errno. Anything else is a bug and rethrows. */
export function outcome(fn: () => number | void | StepResult): StepResult {
  try {
    const r = fn();
    if (r === undefined) return { ret: 0, errno: null };
    if (typeof r === 'number') return { ret: r, errno: null };
    return r;
  } catch (e) {
    if (isKvmError(e)) return { ret: null, errno: e.errno };
    throw e;
  }
}

export class ModelTarget implements AbiTarget {
  readonly kind = 'model';
  readonly hv: Hypervisor;
  readonly vm: Vm;
  private vcpu: Vcpu | undefined;

  /**
   * `plugins` lets a caller check the ABI with feature plugins installed (e.g. kvm-mmu-pml's
   * PML MMU, passed in by the CLI: this package does not depend on feature packages).
   */
  private readonly kvmclockVmm: KvmclockVmm | undefined;
  private readonly kvmclockMemo = newKvmclockMemo();

  constructor(
    kernel: KernelEraName | KernelLimits = '5.4',
    seed = 0,
    plugins: readonly Plugin[] = [],
    opts: { readonly host?: HostOptions; readonly kvmclock?: (hv: Hypervisor) => KvmclockVmm } = {},
  ) {
    this.hv = createHypervisor({ arch: 'x86_64', seed, kernel, plugins, ...(opts.host !== undefined ? { host: opts.host } : {}) });
    this.vm = this.hv.createVm();
    this.kvmclockVmm = opts.kvmclock?.(this.hv);
  }

  run(step: Step): StepResult {
    const vm = this.vm;
    switch (step.op) {
      case 'checkExtension':
        return outcome(() => (step.on === 'system' ? this.hv.checkExtension(step.cap) : vm.checkExtension(step.cap)));
      case 'enableCap':
        return outcome(() => vm.enableCap(step.cap, (step.args ?? []).map(u64), step.flags ?? 0));
      case 'setMemslot':
        return outcome(() =>
          vm.setUserMemoryRegion({ slot: step.slot, flags: step.flags, guestPhysAddr: u64(step.gpa), memorySize: u64(step.size) }),
        );
      case 'createVcpu':
        return outcome(() => {
          const v = vm.createVcpu(step.id);
          this.vcpu ??= v;
        });
      case 'guestWrite':
        return outcome(() => {
          const v = this.guestVcpu();
          const before = vm.stats.mmioExits;
          for (const w of guestWriteList(step)) v.write(w.gpa, w.bytes);
          // The generated guest stops at its first store outside RAM (an MMIO exit); HLT otherwise.
          return vm.stats.mmioExits === before ? 0 : -1;
        });
      case 'getDirtyLog':
        return outcome(() => ({ ret: 0, errno: null, bitmap: bitmapToRanges(vm.getDirtyLog(step.slot)) }));
      case 'clearDirtyLog':
        return outcome(() => {
          const bytes = Math.ceil(step.numPages / 64) * 8;
          const bitmap = step.bits === null ? new Uint8Array(0) : rangesToBitmap(step.bits, Math.max(bytes, 8));
          vm.clearDirtyLog({ slot: step.slot, firstPage: u64(step.firstPage), numPages: step.numPages, bitmap });
        });
      case 'readMemory':
        return outcome(() => ({ ret: 0, errno: null, bytes: bytesToHex(vm.memory.read(u64(step.gpa), step.length)) }));
      case 'kvmclock':
        return outcome(() => {
          this.hv.sim.runFor(MODEL_STEP_NS);
          const r = runKvmclockCall(this.kvmclockPort(), this.kvmclockMemo, step.call);
          return { ret: r.ret, errno: null, ...(r.facts !== undefined ? { facts: r.facts } : {}) };
        });
    }
  }

  private kvmclockPort(): KvmclockPort {
    const k = this.kvmclockVmm;
    if (k === undefined) throw new Error('a kvmclock step needs a kvmclock model (ConformanceOptions.kvmclock)');
    const v = (): Vcpu => {
      if (this.vcpu === undefined) throw new Error('a kvmclock step needs a createVcpu step first');
      return this.vcpu;
    };
    return {
      hostTscKhz: this.hv.host.counterHz / 1000n,
      realtimeNs: () => this.hv.host.realtime(),
      setMsrs: (m) => k.setMsrs(v(), m),
      getMsrs: (ix) => k.getMsrs(v(), ix),
      run: (wrmsrs) => k.run(v(), () => wrmsrs.forEach((m) => v().wrmsr(m.index, m.value))),
      getClock: () => k.getClock(this.vm),
      setClock: (d) => k.setClock(this.vm, d),
      kvmclockCtrl: () => k.kvmclockCtrl(v()),
      setTscKhz: (khz) => k.setTscKhz(v(), khz),
      getTscKhz: () => k.getTscKhz(v()),
      readMemory: (gpa, n) => this.vm.memory.read(gpa, n),
    };
  }

  private guestVcpu(): Vcpu {
    this.vcpu ??= this.vm.vcpus[0] ?? this.vm.createVcpu(this.firstFreeVcpuId());
    return this.vcpu;
  }

  private firstFreeVcpuId(): number {
    let id = 0;
    while (this.vm.vcpus.some((v) => v.id === id)) id++;
    return id;
  }

  close(): void {
    // The model holds no kernel resources.
  }
}
