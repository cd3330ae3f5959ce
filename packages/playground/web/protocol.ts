/**
 * Messages between the page and the worker that runs the model. Everything crossing is plain
 * data (structured clone): the page never holds a hypervisor, only what the worker reports.
 */
import type { Arch, ScenarioOptionSpec } from '@kvmlab/hypervisor-core';
import type { ResultJson } from '../../cli/src/json-output.js';
import type { Step } from './steps/types.js';

export interface PluginInfo {
  readonly name: string;
  readonly arch: Arch;
  /** The series' variants (pre-fix first); empty for a plugin with one behaviour. */
  readonly variants: readonly string[];
}

export interface ScenarioInfo {
  readonly name: string;
  readonly description: string;
  readonly arch: Arch;
  readonly package: string;
  readonly variants: readonly string[];
  readonly defaultVariant: string;
  readonly variantAxes?: Readonly<Record<string, readonly string[]>>;
  readonly options: Readonly<Record<string, ScenarioOptionSpec>>;
}

export interface CatalogInfo {
  readonly plugins: readonly PluginInfo[];
  readonly scenarios: readonly ScenarioInfo[];
  readonly kernels: readonly string[];
  /** The report's CSS for its figures and matrix grids. */
  readonly css: string;
}

/** A composition: the arch, each chosen plugin with its variant ('' = the kernel's / its default), a kernel ('' = none). */
export interface Composition {
  readonly arch: Arch;
  readonly plugins: Readonly<Record<string, string>>;
  readonly kernel: string;
}

export interface CapRow {
  readonly cap: number;
  readonly name: string;
  readonly system: number;
  readonly vm: number;
  readonly owner: string | null;
}

export interface ComposeReport {
  readonly ok: boolean;
  /** CompositionError: the plugin at fault and the message. */
  readonly error?: { readonly plugin: string; readonly code: string; readonly message: string };
  readonly plugins: readonly string[];
  /** Which variant each series runs (createHypervisor's choice with a kernel). */
  readonly variants: readonly { readonly series: string; readonly variant: string; readonly kernelVariant?: string; readonly mismatch: boolean }[];
  readonly capabilities: readonly CapRow[];
  readonly discovery: readonly { readonly probe: string; readonly result: string; readonly meaning: string }[];
}

export interface RunRequest {
  readonly scenario: string;
  readonly arch: Arch;
  readonly variants: readonly string[];
  readonly seed: number;
  readonly options: Readonly<Record<string, number | boolean | string>>;
}

export interface RunReport {
  readonly results: readonly ResultJson[];
  readonly errors: readonly { readonly variant: string; readonly message: string }[];
  /** Per result (same order): its events for the scrubber (empty when the scenario has none). */
  readonly steps: readonly (readonly Step[])[];
  readonly ms: number;
}

export type ToWorker =
  | { readonly id: number; readonly kind: 'catalog' }
  | { readonly id: number; readonly kind: 'compose'; readonly composition: Composition }
  | { readonly id: number; readonly kind: 'run'; readonly request: RunRequest }
  /** The secondary charts of the last run (drawn only when asked: they can be large). */
  | { readonly id: number; readonly kind: 'charts' };

export type FromWorker =
  | { readonly id: number; readonly kind: 'catalog'; readonly catalog: CatalogInfo }
  | { readonly id: number; readonly kind: 'compose'; readonly report: ComposeReport }
  | { readonly id: number; readonly kind: 'progress'; readonly fraction: number; readonly label: string }
  | { readonly id: number; readonly kind: 'run'; readonly report: RunReport }
  /** After 'run': the report's lead figure, as the report draws it (HTML with inline SVG). */
  | { readonly id: number; readonly kind: 'figure'; readonly html: string }
  | { readonly id: number; readonly kind: 'charts'; readonly html: string; readonly count: number }
  | { readonly id: number; readonly kind: 'error'; readonly message: string };
