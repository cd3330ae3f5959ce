/**
 * Whether /dev/kvm can be driven here, and if not, why: tests and the CLI use it to skip
 * live runs with a visible notice.
 */
import { existsSync } from 'node:fs';
import { release } from 'node:os';
import { KVM_API_VERSION, isKvmError } from '@kvmlab/hypervisor-core';
import { KvmSystem } from './ffi/kvm.js';
import { loadLibc } from './ffi/libc.js';

export type Availability =
  | { readonly ok: true; readonly apiVersion: number; readonly uname: string }
  | { readonly ok: false; readonly reason: string };

let cached: Availability | undefined;

/** Probes once: libc through koffi, /dev/kvm, the API version, a VM and a vCPU. */
export function isAvailable(path = '/dev/kvm'): Availability {
  if (cached !== undefined && path === '/dev/kvm') return cached;
  const r = probe(path);
  if (path === '/dev/kvm') cached = r;
  return r;
}

function probe(path: string): Availability {
  const libc = loadLibc();
  if (libc instanceof Error) return { ok: false, reason: `cannot call libc through koffi: ${libc.message}` };
  if (!existsSync(path)) return { ok: false, reason: `${path} does not exist (no KVM module, or not passed into this container)` };
  let sys: KvmSystem | undefined;
  try {
    sys = KvmSystem.open(path);
    const v = sys.apiVersion();
    if (v !== KVM_API_VERSION) return { ok: false, reason: `KVM_GET_API_VERSION is ${v}, not ${KVM_API_VERSION}` };
    const vm = sys.createVm();
    vm.createVcpu(0);
    vm.close();
    return { ok: true, apiVersion: v, uname: release() };
  } catch (e) {
    const why = isKvmError(e) ? `${e.errno}${e.errno === 'EACCES' ? ' (no permission: add the user to group kvm)' : ''}` : String(e);
    return { ok: false, reason: `${path} is not usable: ${why}` };
  } finally {
    sys?.close();
  }
}
