/**
 * The reference model the API fuzz (api-model.test.ts) checks the hypervisor against: the
 * memslot rules of __kvm_set_memory_region(), the dirty log of KVM_GET/CLEAR_DIRTY_LOG with and
 * without manual protect (Linux 5.4, INITIALLY_SET from 5.7), guest memory contents, and hasRun.
 * It says what a valid call must do; the fuzz checks every invalid call changed nothing.
 */

export const PAGE = 4096;
/** The model's address space: small, so slots collide often (16 MiB). */
export const SPACE_PAGES = 4096;
export const MAX_USER_SLOTS = 509; // KVM_USER_MEM_SLOTS in 5.x (kernel-era.ts)

export interface ModelSlot {
  base: number; // gfn
  readonly npages: number;
  flags: number;
  /** Page index → contents (kept across moves and flag changes, as the real backing is). */
  readonly pages: Map<number, Uint8Array>;
  /** Dirty page indices while KVM_MEM_LOG_DIRTY_PAGES is set, else undefined. */
  dirty: Set<number> | undefined;
}

export interface Model {
  readonly arch: 'arm64' | 'x86_64';
  readonly addressSpaces: number;
  readonly slots: Map<number, ModelSlot>; // address space 0 only (the fuzz uses as 0 for data)
  manual: number;
  hasRun: boolean;
  harvested: number;
  vcpuIds: Set<number>;
}

export function newModel(arch: 'arm64' | 'x86_64'): Model {
  return { arch, addressSpaces: arch === 'x86_64' ? 2 : 1, slots: new Map(), manual: 0, hasRun: false, harvested: 0, vcpuIds: new Set() };
}

const LOG = 1;
const READONLY = 2;

/** What KVM_SET_USER_MEMORY_REGION answers for a region whose fields have the right C types. */
export function regionOutcome(m: Model, slot: number, flags: number, gpa: bigint, size: bigint): 'ok' | 'EINVAL' | 'EEXIST' {
  const asId = slot >>> 16;
  const id = slot & 0xffff;
  if (id >= MAX_USER_SLOTS) return 'EINVAL';
  if ((flags & ~(LOG | READONLY)) !== 0) return 'EINVAL';
  if (size % BigInt(PAGE) !== 0n || gpa % BigInt(PAGE) !== 0n) return 'EINVAL';
  if (asId >= m.addressSpaces) return 'EINVAL';
  if (asId !== 0) return 'ok'; // the fuzz never sends address space 1 as valid (SMM); treated as not modelled
  const npages = Number(size / BigInt(PAGE));
  const base = Number(gpa / BigInt(PAGE));
  const old = m.slots.get(id);
  if (npages === 0) return old === undefined ? 'EINVAL' : 'ok';
  if (old !== undefined) {
    if (old.npages !== npages) return 'EINVAL';
    if (((flags ^ old.flags) & READONLY) !== 0) return 'EINVAL';
    if (base === old.base) return 'ok';
  }
  for (const [sid, s] of m.slots) {
    if (sid === id) continue;
    if (base < s.base + s.npages && s.base < base + npages) return 'EEXIST';
  }
  return 'ok';
}

/** Applies a region the model accepted. */
export function applyRegion(m: Model, slot: number, flags: number, gpa: bigint, size: bigint): void {
  const id = slot & 0xffff;
  const npages = Number(size / BigInt(PAGE));
  const base = Number(gpa / BigInt(PAGE));
  const old = m.slots.get(id);
  if (npages === 0) {
    m.slots.delete(id);
    return;
  }
  const s: ModelSlot = old ?? { base, npages, flags: 0, pages: new Map(), dirty: undefined };
  const changed = old === undefined || old.base !== base || old.flags !== flags;
  s.base = base;
  s.flags = flags;
  if (!changed) return;
  if ((flags & LOG) !== 0 && s.dirty === undefined) {
    const initiallySet = (m.manual & 3) === 3;
    s.dirty = new Set(initiallySet ? Array.from({ length: npages }, (_, i) => i) : []);
  } else if ((flags & LOG) === 0) {
    s.dirty = undefined;
  }
  m.slots.set(id, s);
}

/** The slot holding gfn, with its page index. */
export function slotAt(m: Model, gfn: number): [ModelSlot, number] | undefined {
  for (const s of m.slots.values()) if (gfn >= s.base && gfn < s.base + s.npages) return [s, gfn - s.base];
  return undefined;
}

/** A guest store: RAM pages change (and get dirty); read-only slots and holes are MMIO (nothing changes). */
export function applyWrite(m: Model, gpa: number, bytes: Uint8Array): void {
  m.hasRun = true;
  for (let done = 0; done < bytes.length;) {
    const addr = gpa + done;
    const gfn = Math.floor(addr / PAGE);
    const off = addr % PAGE;
    const n = Math.min(PAGE - off, bytes.length - done);
    const hit = slotAt(m, gfn);
    if (hit !== undefined && (hit[0].flags & READONLY) === 0) {
      const [s, i] = hit;
      let p = s.pages.get(i);
      if (p === undefined) s.pages.set(i, (p = new Uint8Array(PAGE)));
      p.set(bytes.subarray(done, done + n), off);
      s.dirty?.add(i);
    }
    done += n;
  }
}

/** A guest load: RAM contents, zeros elsewhere (unclaimed MMIO reads). */
export function modelRead(m: Model, gpa: number, length: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let done = 0; done < length;) {
    const addr = gpa + done;
    const gfn = Math.floor(addr / PAGE);
    const off = addr % PAGE;
    const n = Math.min(PAGE - off, length - done);
    const hit = slotAt(m, gfn);
    const p = hit?.[0].pages.get(hit[1]);
    if (p !== undefined) out.set(p.subarray(off, off + n), done);
    done += n;
  }
  return out;
}
