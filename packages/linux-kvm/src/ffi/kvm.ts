/**
 * /dev/kvm from TypeScript: the system fd, VM fds and vCPU fds with the ioctls this package
 * needs. Every failing call throws the same KvmError hypervisor-core throws, with the errno the
 * kernel returned; every fd and mapping is released by close() (a test checks /proc/self).
 */
import * as abi from './kvm-abi.js';
import { check, libc } from './libc.js';
import { HostMapping } from './mapping.js';
import { KvmVcpu } from './vcpu.js';

/** Anything that holds kernel resources. */
export interface Closable {
  close(): void;
}

export class KvmSystem implements Closable {
  readonly fd: number;
  private readonly vms = new Set<KvmVm>();
  private closed = false;

  private constructor(fd: number) {
    this.fd = fd;
  }

  static open(path = '/dev/kvm'): KvmSystem {
    const c = libc();
    return new KvmSystem(check(`open(${path})`, c.open(path, abi.O_RDWR | abi.O_CLOEXEC)));
  }

  /** KVM_GET_API_VERSION. */
  apiVersion(): number {
    return check('KVM_GET_API_VERSION', libc().ioctlInt(this.fd, abi.KVM_GET_API_VERSION, 0n));
  }

  /** KVM_CHECK_EXTENSION on /dev/kvm. */
  checkExtension(cap: number): number {
    return check('KVM_CHECK_EXTENSION', libc().ioctlInt(this.fd, abi.KVM_CHECK_EXTENSION, BigInt(cap)));
  }

  /** KVM_GET_VCPU_MMAP_SIZE: bytes of the kvm_run mapping. */
  vcpuMmapSize(): number {
    return check('KVM_GET_VCPU_MMAP_SIZE', libc().ioctlInt(this.fd, abi.KVM_GET_VCPU_MMAP_SIZE, 0n));
  }

  /** KVM_CREATE_VM (machine type 0). */
  createVm(type = 0): KvmVm {
    const fd = check('KVM_CREATE_VM', libc().ioctlInt(this.fd, abi.KVM_CREATE_VM, BigInt(type)));
    const vm = new KvmVm(this, fd, () => this.vms.delete(vm));
    this.vms.add(vm);
    return vm;
  }

  close(): void {
    if (this.closed) return;
    for (const vm of [...this.vms]) vm.close();
    this.closed = true;
    check('close', libc().close(this.fd));
  }
}

/** struct kvm_userspace_memory_region. */
export interface KvmMemoryRegion {
  readonly slot: number;
  readonly flags: number;
  readonly guestPhysAddr: bigint;
  readonly memorySize: bigint;
  readonly userspaceAddr: bigint;
}

/** struct kvm_clear_dirty_log; the bitmap is copied in by the kernel. */
export interface KvmClearDirtyLog {
  readonly slot: number;
  readonly firstPage: bigint;
  readonly numPages: number;
  readonly bitmap: Uint8Array | null;
}

/** struct kvm_clock_data (include/uapi/linux/kvm.h, 5.16+ layout; 5.4 has pad where realtime/host_tsc are). */
export interface KvmClockData {
  readonly clock: bigint;
  readonly flags: number;
  readonly realtime: bigint;
  readonly hostTsc: bigint;
}

function le(size: number): { buf: Uint8Array; dv: DataView } {
  const buf = new Uint8Array(size);
  return { buf, dv: new DataView(buf.buffer) };
}

export class KvmVm implements Closable {
  readonly sys: KvmSystem;
  readonly fd: number;
  private readonly vcpus = new Set<KvmVcpu>();
  private readonly mappings = new Set<HostMapping>();
  private readonly onClose: () => void;
  private scratchMap: HostMapping | undefined;
  private closed = false;

  constructor(sys: KvmSystem, fd: number, onClose: () => void) {
    this.sys = sys;
    this.fd = fd;
    this.onClose = onClose;
  }

  /** KVM_CHECK_EXTENSION on the VM fd. */
  checkExtension(cap: number): number {
    return check('KVM_CHECK_EXTENSION(vm)', libc().ioctlInt(this.fd, abi.KVM_CHECK_EXTENSION, BigInt(cap)));
  }

  /** KVM_ENABLE_CAP on the VM fd. */
  enableCap(cap: number, args: readonly bigint[] = [], flags = 0): void {
    const { buf, dv } = le(abi.SIZEOF_KVM_ENABLE_CAP);
    dv.setUint32(0, cap, true);
    dv.setUint32(4, flags, true);
    args.slice(0, 4).forEach((a, i) => dv.setBigUint64(8 + 8 * i, BigInt.asUintN(64, a), true));
    check('KVM_ENABLE_CAP', libc().ioctlPtr(this.fd, abi.KVM_ENABLE_CAP, buf));
  }

  /** Anonymous, unreserved host memory owned (and released) by this VM. */
  mapAnonymous(length: bigint): HostMapping {
    const m = HostMapping.anonymous(length);
    this.mappings.add(m);
    return m;
  }

  /** Unmaps memory from mapAnonymous (after the slot using it is gone). */
  unmap(m: HostMapping): void {
    if (this.mappings.delete(m)) m.release();
  }

  /** KVM_SET_USER_MEMORY_REGION. */
  setUserMemoryRegion(r: KvmMemoryRegion): void {
    const { buf, dv } = le(abi.SIZEOF_KVM_USERSPACE_MEMORY_REGION);
    dv.setUint32(0, r.slot >>> 0, true);
    dv.setUint32(4, r.flags >>> 0, true);
    dv.setBigUint64(8, BigInt.asUintN(64, r.guestPhysAddr), true);
    dv.setBigUint64(16, BigInt.asUintN(64, r.memorySize), true);
    dv.setBigUint64(24, BigInt.asUintN(64, r.userspaceAddr), true);
    check('KVM_SET_USER_MEMORY_REGION', libc().ioctlPtr(this.fd, abi.KVM_SET_USER_MEMORY_REGION, buf));
  }

  /**
   * A buffer in mmap'd memory for bitmaps the kernel reads or writes: its address cannot move
   * (a small JS typed array may live on V8's heap and move in a GC between two calls).
   */
  scratch(bytes: number): { readonly addr: bigint; readonly view: Uint8Array } {
    const need = BigInt(Math.max(4096, Math.ceil(bytes / 4096) * 4096));
    if (this.scratchMap === undefined || this.scratchMap.length < need) {
      if (this.scratchMap !== undefined) this.unmap(this.scratchMap);
      this.scratchMap = this.mapAnonymous(need);
    }
    const m = this.scratchMap;
    return { addr: m.addr, view: new Uint8Array(libc().koffi.view(m.addr, bytes)) };
  }

  /** KVM_GET_DIRTY_LOG into memory at `addr` (0 is a NULL pointer). */
  getDirtyLogAt(slot: number, addr: bigint): void {
    const { buf, dv } = le(abi.SIZEOF_KVM_DIRTY_LOG);
    dv.setUint32(0, slot >>> 0, true);
    dv.setBigUint64(8, addr, true);
    check('KVM_GET_DIRTY_LOG', libc().ioctlPtr(this.fd, abi.KVM_GET_DIRTY_LOG, buf));
  }

  /** KVM_GET_DIRTY_LOG of a slot of `npages` pages: a copy of ALIGN(npages, 64) / 8 bytes. */
  getDirtyLog(slot: number, npages: number): Uint8Array {
    const n = Math.max(8, Math.ceil(npages / 64) * 8);
    const s = this.scratch(n);
    s.view.fill(0);
    this.getDirtyLogAt(slot, s.addr);
    return s.view.slice();
  }

  /** KVM_CLEAR_DIRTY_LOG with the bitmap at `addr` (0 is a NULL pointer). */
  clearDirtyLogAt(slot: number, firstPage: bigint, numPages: number, addr: bigint): void {
    const { buf, dv } = le(abi.SIZEOF_KVM_CLEAR_DIRTY_LOG);
    dv.setUint32(0, slot >>> 0, true);
    dv.setUint32(4, numPages >>> 0, true);
    dv.setBigUint64(8, BigInt.asUintN(64, firstPage), true);
    dv.setBigUint64(16, addr, true);
    check('KVM_CLEAR_DIRTY_LOG', libc().ioctlPtr(this.fd, abi.KVM_CLEAR_DIRTY_LOG, buf));
  }

  /**
   * KVM_CLEAR_DIRTY_LOG; `bitmap: null` passes a NULL pointer (the kernel's copy_from_user
   * then fails with EFAULT unless it has nothing to copy).
   */
  clearDirtyLog(a: KvmClearDirtyLog): void {
    if (a.bitmap === null) return this.clearDirtyLogAt(a.slot, a.firstPage, a.numPages, 0n);
    const need = Math.ceil(a.numPages / 64) * 8;
    const s = this.scratch(Math.max(need, a.bitmap.length, 8));
    s.view.fill(0);
    s.view.set(a.bitmap);
    this.clearDirtyLogAt(a.slot, a.firstPage, a.numPages, s.addr);
  }

  /** KVM_GET_CLOCK: struct kvm_clock_data. */
  getClock(): KvmClockData {
    const { buf, dv } = le(abi.SIZEOF_KVM_CLOCK_DATA);
    check('KVM_GET_CLOCK', libc().ioctlPtr(this.fd, abi.KVM_GET_CLOCK, buf));
    return { clock: dv.getBigUint64(0, true), flags: dv.getUint32(8, true), realtime: dv.getBigUint64(16, true), hostTsc: dv.getBigUint64(24, true) };
  }

  /** KVM_SET_CLOCK. */
  setClock(d: KvmClockData): void {
    const { buf, dv } = le(abi.SIZEOF_KVM_CLOCK_DATA);
    dv.setBigUint64(0, BigInt.asUintN(64, d.clock), true);
    dv.setUint32(8, d.flags >>> 0, true);
    dv.setBigUint64(16, BigInt.asUintN(64, d.realtime), true);
    dv.setBigUint64(24, BigInt.asUintN(64, d.hostTsc), true);
    check('KVM_SET_CLOCK', libc().ioctlPtr(this.fd, abi.KVM_SET_CLOCK, buf));
  }

  /** KVM_CREATE_VCPU, with its kvm_run mapped. */
  createVcpu(id: number): KvmVcpu {
    const fd = check('KVM_CREATE_VCPU', libc().ioctlInt(this.fd, abi.KVM_CREATE_VCPU, BigInt(id)));
    let run: HostMapping;
    try {
      run = HostMapping.ofFd(fd, BigInt(this.sys.vcpuMmapSize()));
    } catch (e) {
      libc().close(fd);
      throw e;
    }
    const v = new KvmVcpu(fd, id, run, () => this.vcpus.delete(v));
    this.vcpus.add(v);
    return v;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const v of [...this.vcpus]) v.close();
    check('close', libc().close(this.fd));
    // The memslots die with the VM fd; only then may their memory go.
    for (const m of this.mappings) m.release();
    this.mappings.clear();
    this.onClose();
  }
}
