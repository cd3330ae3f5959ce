import { createHypervisor, type HostOptions, type Plugin, type Vcpu, type Hypervisor } from '@kvmlab/hypervisor-core';
import { ptpKvmX86, type PtpKvmX86Options } from '../src/index.js';

export const RAM_BASE = 0n;
export const RAM_SIZE = 16n << 20n; // 16 MiB
export const PVTI_GPA = 0x1000n;
export const CLOCK_PAIR_GPA = 0x2000n;
/** 1700000000.123456789 s: the spec's host realtime. */
export const REAL_NS = 1_700_000_000_123_456_789n;

export interface X86Rig {
  readonly hv: Hypervisor;
  readonly vcpu: Vcpu;
}

export function x86Rig(opts: { plugin?: PtpKvmX86Options; host?: HostOptions; extra?: Plugin[]; noPlugin?: boolean; seed?: number } = {}): X86Rig {
  const plugins = opts.noPlugin === true ? [...(opts.extra ?? [])] : [ptpKvmX86(opts.plugin), ...(opts.extra ?? [])];
  const hv = createHypervisor({ arch: 'x86_64', seed: opts.seed ?? 1, plugins, host: { realtimeStartNs: REAL_NS, ...opts.host } });
  const vm = hv.createVm();
  vm.setUserMemoryRegion({ slot: 0, flags: 0, guestPhysAddr: RAM_BASE, memorySize: RAM_SIZE });
  return { hv, vcpu: vm.createVcpu(0) };
}

export const neg = (n: number): bigint => BigInt.asUintN(64, -BigInt(n));
