/**
 * Runs ABI script steps against hypervisor-core's model: a fresh x86_64 hypervisor following
 * a kernel era, one VM, guest writes through `vcpu.write` (the MMU path a guest store takes).
 */
import {
  createHypervisor,
  isKvmError,
  type Hypervisor,
  type KernelEraName,
  type KernelLimits,
  type Plugin,
  type Vcpu,
  type Vm,
} from '@kvmlab/hypervisor-core';
import { bitmapToRanges, bytesToHex, guestWriteList, rangesToBitmap, u64, type Step, type StepResult } from './script.js';

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
  constructor(kernel: KernelEraName | KernelLimits = '5.4', seed = 0, plugins: readonly Plugin[] = []) {
    this.hv = createHypervisor({ arch: 'x86_64', seed, kernel, plugins });
    this.vm = this.hv.createVm();
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
    }
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
