/**
 * Anonymous host memory for a memslot: mmap(MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE), so a
 * 64 GiB slot reserves nothing until pages are touched. Reads and writes go through a short
 * koffi view at the address (a view over all of a huge mapping would abort Node).
 */
import { MAP_ANONYMOUS, MAP_NORESERVE, MAP_PRIVATE, MAP_SHARED, PROT_READ, PROT_WRITE } from './kvm-abi.js';
import { errnoError, libc, type CPointer } from './libc.js';

/** (void *)-1, mmap's failure value. */
const MAP_FAILED = 0xffff_ffff_ffff_ffffn;

export class HostMapping {
  private static live = 0;
  readonly ptr: CPointer;
  /** The host virtual address (userspace_addr for KVM_SET_USER_MEMORY_REGION). */
  readonly addr: bigint;
  readonly length: bigint;
  private mapped = true;

  private constructor(ptr: CPointer, length: bigint) {
    this.ptr = ptr;
    this.addr = libc().koffi.address(ptr);
    this.length = length;
    HostMapping.live++;
  }

  /** Mappings made and not yet released (for leak checks). */
  static get liveCount(): number {
    return HostMapping.live;
  }

  /** Anonymous, zero-filled, not reserved. */
  static anonymous(length: bigint): HostMapping {
    return HostMapping.map(length, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1);
  }

  /** A shared mapping of an fd (the vCPU's kvm_run). */
  static ofFd(fd: number, length: bigint): HostMapping {
    return HostMapping.map(length, MAP_SHARED, fd);
  }

  private static map(length: bigint, flags: number, fd: number): HostMapping {
    const c = libc();
    const ptr = c.mmap(null, length, PROT_READ | PROT_WRITE, flags, fd, 0n);
    if (ptr === null || c.koffi.address(ptr) === MAP_FAILED) throw errnoError('mmap', c.errno());
    return new HostMapping(ptr, length);
  }

  get isMapped(): boolean {
    return this.mapped;
  }

  private range(offset: number, length: number): void {
    if (!this.mapped) throw new Error('mapping already released');
    if (offset < 0 || length < 0 || BigInt(offset + length) > this.length) {
      throw new RangeError(`[${offset}, +${length}) outside a mapping of ${this.length} bytes`);
    }
  }

  read(offset: number, length: number): Uint8Array {
    this.range(offset, length);
    if (length === 0) return new Uint8Array(0);
    return new Uint8Array(libc().koffi.view(this.addr + BigInt(offset), length).slice(0));
  }

  write(offset: number, bytes: Uint8Array): void {
    this.range(offset, bytes.length);
    if (bytes.length === 0) return;
    new Uint8Array(libc().koffi.view(this.addr + BigInt(offset), bytes.length)).set(bytes);
  }

  u32(offset: number): number {
    return new DataView(this.read(offset, 4).buffer).getUint32(0, true);
  }

  /** munmap; idempotent. */
  release(): void {
    if (!this.mapped) return;
    this.mapped = false;
    HostMapping.live--;
    const c = libc();
    if (c.munmap(this.ptr, this.length) < 0) throw errnoError('munmap', c.errno());
  }
}
