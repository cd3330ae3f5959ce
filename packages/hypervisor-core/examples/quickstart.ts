// The README's example: compose a hypervisor with one plugin and run a guest against it.
// Run it with `npm run example` from the repository root.
import {
  createHypervisor,
  KVM_CAP_EXIT_HYPERCALL,
  KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2,
  KVM_HC_MAP_GPA_RANGE,
  KVM_MEM_LOG_DIRTY_PAGES,
  bitmapPages,
  s64,
} from '@kvmlab/hypervisor-core';
import { KVM_EXIT_HYPERCALL_VALID_MASK, mapGpaRange } from './map-gpa-range.js';

const shared: bigint[] = [];
const hv = createHypervisor({
  arch: 'x86_64',
  seed: 42,
  plugins: [mapGpaRange((_vcpu, req) => (shared.push(req.gpa), 0n))],
});
console.log('KVM_CHECK_EXTENSION(EXIT_HYPERCALL) =', hv.checkExtension(KVM_CAP_EXIT_HYPERCALL));
console.log('KVM_CHECK_EXTENSION(MANUAL_DIRTY_LOG_PROTECT2) =', hv.checkExtension(KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2));

const vm = hv.createVm();
vm.setUserMemoryRegion({ slot: 0, flags: KVM_MEM_LOG_DIRTY_PAGES, guestPhysAddr: 0x1_0000_0000n, memorySize: 1n << 30n });
const vcpu = vm.createVcpu(0);

// Before the VMM enables the exit, the guest's hypercall is unknown to KVM.
console.log('MAP_GPA_RANGE before enable =', s64(vcpu.vmcall(KVM_HC_MAP_GPA_RANGE, [0x1_0000_0000n, 16n, 0n])));
vm.enableCap(KVM_CAP_EXIT_HYPERCALL, [KVM_EXIT_HYPERCALL_VALID_MASK]);
console.log('MAP_GPA_RANGE after enable  =', s64(vcpu.vmcall(KVM_HC_MAP_GPA_RANGE, [0x1_0000_0000n, 16n, 0n])));
console.log('  unaligned gpa             =', s64(vcpu.vmcall(KVM_HC_MAP_GPA_RANGE, [0x1_0000_0800n, 1n, 0n])));
console.log('  the VMM saw               =', shared.map((g) => `0x${g.toString(16)}`));

// A guest writes three pages; the dirty log reports exactly those, in KVM's bitmap layout.
for (const page of [0n, 2n, 9n]) vcpu.write(0x1_0000_0000n + page * 4096n, new Uint8Array([1, 2, 3]));
hv.sim.runFor(1_000_000n);
const log = vm.getDirtyLog(0);
console.log(`dirty pages after 1 ms of virtual time: ${JSON.stringify(bitmapPages(log))} (bitmap ${log.length} bytes)`);
console.log('second GET (re-protected):', JSON.stringify(bitmapPages(vm.getDirtyLog(0))));
