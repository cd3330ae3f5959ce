// Child process for the RSS benchmark: a 1 TiB slot, 1 GiB of guest writes, then RSS.
import { createHypervisor, KVM_MEM_LOG_DIRTY_PAGES } from '@kvmlab/hypervisor-core';

const vm = createHypervisor({ arch: 'x86_64' }).createVm();
vm.setUserMemoryRegion({ slot: 0, flags: KVM_MEM_LOG_DIRTY_PAGES, guestPhysAddr: 0n, memorySize: 1n << 40n });
const vcpu = vm.createVcpu(0);
const baseRss = process.memoryUsage().rss;
const page = new Uint8Array(4096).fill(1);
// 1 GiB = 262144 pages, spread over the whole TiB (every 1024th page).
for (let i = 0n; i < 262_144n; i++) vcpu.write((i * 1024n) << 12n, page);
const rss = process.memoryUsage().rss;
process.stdout.write(JSON.stringify({ baseRss, rss, residentPages: vm.memory.residentPages }));
