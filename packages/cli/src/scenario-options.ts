/**
 * Scenario options on the command line. Each ScenarioOptionSpec (data, from the scenario)
 * becomes a commander flag (`durationS` → `--duration-s <n>`, booleans `--x` / `--no-x`) and
 * a zod validator; values then pass core's resolveScenarioOptions for the defaults.
 */
import {
  checkLimits, checkScenarioBudget, resolveScenarioOptions, ScenarioOptionError, type Arch, type ScenarioDef, type ScenarioEstimate,
  type ScenarioOptionSpec, type ScenarioOptionValues,
} from '@kvmlab/hypervisor-core';
import { z } from 'zod';
import { UsageError } from './errors.js';

/** Flags `run` itself takes; a scenario option of the same name becomes `--opt-<name>`. */
export const RESERVED_FLAGS: ReadonlySet<string> = new Set([
  'variant', 'arch', 'seed', 'duration', 'kernel', 'json', 'report', 'trace', 'help', 'version', 'max-memory-mib', 'max-events',
]);

export function kebab(name: string): string {
  // Binary-prefix units stay one word: l1GiB → l1-gib, wssMiB → wss-mib.
  const units = name.replace(/([KMGTP])iB/g, (_, p: string) => `${p}ib`);
  return units.replace(/([a-z0-9])([A-Z])/g, '$1-$2').replace(/_/g, '-').toLowerCase();
}

/** commander's camelCase attribute name for a long flag (e.g. `poll-log2` → `pollLog2`). */
export function camel(flag: string): string {
  return flag.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

export interface OptionFlag {
  readonly key: string;
  /** Without the leading dashes. */
  readonly flag: string;
  readonly spec: ScenarioOptionSpec;
}

/** The flag (without dashes) of a scenario option key: `hotMiB` → `hot-mib`, `seed` → `opt-seed`. */
export function flagOf(key: string): string {
  const k = kebab(key);
  return RESERVED_FLAGS.has(k) ? `opt-${k}` : k;
}

export function optionFlags(def: ScenarioDef): readonly OptionFlag[] {
  return Object.entries(def.options).map(([key, spec]) => ({ key, flag: flagOf(key), spec }));
}

/**
 * A scenario's own description as the user reads it: an option key it mentions in camelCase
 * (`enablePml`) becomes the flag the user types (`--enable-pml`).
 */
export function kebabText(text: string, def: Pick<ScenarioDef, 'options'> | undefined): string {
  if (def === undefined) return text;
  let out = text;
  for (const key of Object.keys(def.options)) {
    if (!/[A-Z]/.test(key)) continue;
    out = out.replace(new RegExp(`(?<![\\w-])${key}(?![\\w])`, 'g'), `--${flagOf(key)}`);
  }
  return out;
}

/** The help text of one option: description, unit, range and default. */
export function describeOption(spec: ScenarioOptionSpec, def?: Pick<ScenarioDef, 'options'>): string {
  const text = kebabText(spec.description, def);
  if (spec.type === 'number') {
    const range = spec.min !== undefined || spec.max !== undefined ? `; ${spec.min ?? '-∞'}..${spec.max ?? '∞'}` : '';
    return `${text}${spec.unit ? ` (${spec.unit}` : ' ('}${spec.unit ? '; ' : ''}${spec.integer === true ? 'integer; ' : ''}default ${spec.default}${range})`;
  }
  if (spec.type === 'boolean') return `${text} (default ${spec.default ? 'on' : 'off'})`;
  return `${text} (${spec.values.join(' | ')}; default ${spec.default})`;
}

const NUMBER_TEXT = /^[-+]?(\d+(\.\d*)?|\.\d+)(e[-+]?\d+)?$/i;

function numberSchema(spec: Extract<ScenarioOptionSpec, { type: 'number' }>): z.ZodType<number, string> {
  let n = z.number();
  if (spec.integer === true) n = n.int('must be an integer');
  if (spec.min !== undefined) n = n.min(spec.min, `must be ≥ ${spec.min}`);
  if (spec.max !== undefined) n = n.max(spec.max, `must be ≤ ${spec.max}`);
  return z.string().trim().regex(NUMBER_TEXT, 'must be a number').transform(Number).pipe(n);
}

/** The zod schema of a scenario's options as they arrive from commander (strings, booleans). */
export function optionSchema(def: ScenarioDef): z.ZodType<Record<string, number | boolean | string | undefined>> {
  const shape: Record<string, z.ZodType> = {};
  for (const [key, spec] of Object.entries(def.options)) {
    if (spec.type === 'number') shape[key] = numberSchema(spec).optional();
    else if (spec.type === 'boolean') shape[key] = z.boolean().optional();
    else shape[key] = z.enum(spec.values as [string, ...string[]], `must be one of ${spec.values.join(', ')}`).optional();
  }
  return z.strictObject(shape) as unknown as z.ZodType<Record<string, number | boolean | string | undefined>>;
}

/**
 * Validates raw flag values (keyed by option name) and fills defaults. Throws UsageError
 * naming the flag.
 */
export function parseScenarioOptions(def: ScenarioDef, raw: Readonly<Record<string, unknown>>): ScenarioOptionValues {
  const flags = new Map(optionFlags(def).map((f) => [f.key, f.flag]));
  const r = optionSchema(def).safeParse(raw);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    const key = String(issue.path[0] ?? '');
    const given = raw[key];
    const shown = typeof given === 'string' ? ` ${JSON.stringify(given)}` : given !== undefined ? ` ${String(given)}` : '';
    throw new UsageError(`option --${flags.get(key) ?? kebab(key)}${shown}: ${issue.message}`);
  }
  const given: Record<string, number | boolean | string> = {};
  for (const [k, v] of Object.entries(r.data)) if (v !== undefined) given[k] = v;
  try {
    return resolveScenarioOptions(def, given);
  } catch (e) {
    if (e instanceof ScenarioOptionError) throw new UsageError(optionMessage(def, e));
    throw e;
  }
}

/** A core ScenarioOptionError as the CLI says it: `option --flag value: rule (scenario s)`, with the flag rather than the key. */
export function optionMessage(def: ScenarioDef | undefined, e: ScenarioOptionError): string {
  // A resource budget (or any error that words itself) keeps its own message.
  if (!e.message.startsWith(`option ${e.option} `)) return e.message;
  const flag = (def !== undefined ? optionFlags(def).find((f) => f.key === e.option)?.flag : undefined) ?? flagOf(e.option);
  const shown = e.value === undefined ? '' : typeof e.value === 'string' ? ` ${JSON.stringify(e.value)}` : ` ${String(e.value)}`;
  const scenario = e.scenario ?? def?.name;
  return `option --${flag}${shown}: ${e.rule}${scenario !== undefined ? ` (scenario ${scenario})` : ''}`;
}

/** `--max-memory-mib` / `--max-events` as commander passes them (strings), checked. */
export function parseLimitFlags(raw: { readonly maxMemoryMib?: unknown; readonly maxEvents?: unknown }): { maxMemoryMiB?: number; maxEvents?: number } {
  const out: { maxMemoryMiB?: number; maxEvents?: number } = {};
  for (const [flag, key, v] of [['max-memory-mib', 'maxMemoryMiB', raw.maxMemoryMib], ['max-events', 'maxEvents', raw.maxEvents]] as const) {
    if (v === undefined) continue;
    const n = typeof v === 'string' && NUMBER_TEXT.test(v.trim()) ? Number(v) : Number.NaN;
    if (!Number.isFinite(n) || n <= 0) throw new UsageError(`option --${flag} must be a positive number, got "${String(v)}"`);
    out[key] = n;
  }
  return out;
}

/**
 * The option rules ranges cannot say, then the scenario's estimate against the limits: a run
 * beyond them is a UsageError naming the estimate, the limit and the flag that raises it.
 */
export function checkRunBudget(def: ScenarioDef, arch: Arch, options: ScenarioOptionValues, limits: { maxMemoryMiB?: number; maxEvents?: number } = {}): ScenarioEstimate {
  try {
    return checkScenarioBudget(def, options, arch, checkLimits(limits));
  } catch (e) {
    if (e instanceof ScenarioOptionError) throw new UsageError(optionMessage(def, e));
    throw e;
  }
}

/** Option names a generic `--duration` maps to, with the unit each is counted in. */
const DURATION_KEYS: ReadonlyArray<readonly [string, string]> = [
  ['duration', ''], ['durationS', 's'], ['durationMs', 'ms'], ['durationUs', 'us'], ['durationNs', 'ns'],
];
const UNIT_NS: Readonly<Record<string, number>> = { ns: 1, us: 1e3, 'µs': 1e3, ms: 1e6, s: 1e9, min: 60e9 };

/** The option a generic `--duration` sets in this scenario, if it has one. */
export function durationKey(def: Pick<ScenarioDef, 'options'>): string | undefined {
  return DURATION_KEYS.find(([k]) => def.options[k]?.type === 'number')?.[0];
}

/**
 * `--duration d` (e.g. `30`, `30s`, `500ms`): sets the scenario's duration option, converted
 * to that option's unit. Returns [option name, value as text].
 */
export function durationOption(def: ScenarioDef, text: string): readonly [string, string] {
  const found = DURATION_KEYS.find(([k]) => def.options[k]?.type === 'number');
  if (found === undefined) throw new UsageError(`--duration ${text}: scenario ${def.name} has no duration to set`);
  const [key, suffixUnit] = found;
  const spec = def.options[key]!;
  const unit = suffixUnit !== '' ? suffixUnit : spec.type === 'number' && spec.unit !== undefined && spec.unit in UNIT_NS ? spec.unit : 's';
  const m = /^\s*([0-9]+(?:\.[0-9]*)?|\.[0-9]+)\s*(ns|us|µs|ms|s|min)?\s*$/.exec(text);
  if (m === null) throw new UsageError(`option --duration "${text}": must be a number with an optional unit (ns, us, ms, s, min)`);
  const value = m[2] === undefined ? Number(m[1]) : (Number(m[1]) * UNIT_NS[m[2]]!) / UNIT_NS[unit]!;
  return [key, String(value)];
}
