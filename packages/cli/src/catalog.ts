/**
 * The scenarios the CLI knows, grouped by name: one name may be provided by several packages
 * for different arches (ptp-sync comes from ptp-kvm-arm64 and from ptp-kvm-x86).
 */
import type { Arch, ScenarioDef } from '@kvmlab/hypervisor-core';
import { UsageError } from './errors.js';

export interface CatalogEntry {
  readonly name: string;
  readonly description: string;
  /** One definition per arch (a definition may cover several arches). */
  readonly defs: readonly ScenarioDef[];
  readonly arches: readonly Arch[];
}

export class ScenarioCatalog {
  private readonly byName = new Map<string, ScenarioDef[]>();

  constructor(defs: readonly ScenarioDef[]) {
    for (const d of defs) {
      const list = this.byName.get(d.name) ?? [];
      for (const a of d.arches) {
        const other = list.find((o) => o.arches.includes(a));
        if (other !== undefined) {
          throw new Error(`scenario ${d.name} on ${a} is defined twice (by ${other.package} and ${d.package})`);
        }
      }
      list.push(d);
      this.byName.set(d.name, list);
    }
  }

  /** Entries sorted by name (stable output for `list` and the demo). */
  entries(): readonly CatalogEntry[] {
    return [...this.byName.keys()].sort().map((n) => this.entry(n));
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  entry(name: string): CatalogEntry {
    const defs = this.byName.get(name);
    if (defs === undefined) {
      const known = [...this.byName.keys()].sort();
      throw new UsageError(`unknown scenario "${name}" (known: ${known.length > 0 ? known.join(', ') : 'none installed'})`);
    }
    const arches = defs.flatMap((d) => d.arches);
    return { name, description: defs[0]!.description, defs, arches };
  }

  /** The definition for an arch; without one, the first arch the scenario supports. */
  resolve(name: string, arch?: string): { readonly def: ScenarioDef; readonly arch: Arch } {
    const e = this.entry(name);
    if (arch === undefined) return { def: e.defs[0]!, arch: e.defs[0]!.arches[0]! };
    const def = e.defs.find((d) => (d.arches as readonly string[]).includes(arch));
    if (def === undefined) throw new UsageError(`scenario ${name} does not run on arch "${arch}" (it runs on ${e.arches.join(', ')})`);
    return { def, arch: arch as Arch };
  }
}
