/** The kvmclock model the kvmclock scripts need: ptp-kvm-x86's plugin and host API (as the CLI passes it). */
import { ptpKvmX86, ptpKvmX86Host } from '@kvmlab/ptp-kvm-x86';
import type { KvmclockModel } from '../src/conform/model-target.js';

export const kvmclockModel: KvmclockModel = {
  plugins: ({ era, tscControl }) => [ptpKvmX86({ kernel: era, tscScaling: tscControl })],
  vmm: ptpKvmX86Host,
};
