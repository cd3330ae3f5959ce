/**
 * `kvmlab.config.ts` (or .mts, .js, .mjs) in the working folder, or the file `--config` names:
 * the user's own plugins and scenarios, hosted next to the installed feature packages. A
 * TypeScript config is loaded with jiti (unjs/jiti: transpiles on the fly, no build step and
 * no loader flags for the user; it is imported only when a config exists), a JavaScript one
 * with plain import(). The file's default export is checked with zod, so a mistake in it is a
 * one-line usage error naming the file and the field.
 */
import { existsSync } from 'node:fs';
import { basename, extname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Arch, Plugin, ScenarioDef } from '@kvmlab/hypervisor-core';
import { z } from 'zod';
import { UsageError } from '../errors.js';

export interface ConfigPlugin {
  readonly name: string;
  readonly arches: readonly Arch[];
  /** Builds the plugin (its defaults: caps composes what a kernel with it would offer). */
  readonly create: () => Plugin;
  /** Shown as the provider in `caps` (default: the config file's name). */
  readonly package?: string;
}

export interface KvmlabConfig {
  readonly plugins?: readonly ConfigPlugin[];
  readonly scenarios?: readonly ScenarioDef[];
}

/** Identity, for type checking in the user's config: `export default defineConfig({ … })`. */
export const defineConfig = (config: KvmlabConfig): KvmlabConfig => config;

export const CONFIG_FILES: readonly string[] = ['kvmlab.config.ts', 'kvmlab.config.mts', 'kvmlab.config.js', 'kvmlab.config.mjs'];

const ARCH = z.enum(['arm64', 'x86_64']);
const fn = z.custom<(...a: never[]) => unknown>((v) => typeof v === 'function', 'must be a function');
const pluginSchema = z.object({ name: z.string().min(1), arches: z.array(ARCH).min(1), create: fn, package: z.string().optional() });
// The fields the CLI relies on before it runs a scenario; the result is checked after each run.
const optionSpec = z.union([
  z.object({ type: z.literal('number'), default: z.number(), description: z.string() }).loose(),
  z.object({ type: z.literal('boolean'), default: z.boolean(), description: z.string() }).loose(),
  z.object({ type: z.literal('enum'), default: z.string(), values: z.array(z.string()).min(1), description: z.string() }).loose(),
]);
const scenarioSchema = z.object({
  name: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'must be kebab-case (a-z, 0-9, -)'),
  description: z.string(),
  arches: z.array(ARCH).min(1),
  variants: z.array(z.string().min(1)).min(1),
  defaultVariant: z.string(),
  options: z.record(z.string(), optionSpec),
  package: z.string(),
  run: fn,
}).loose().refine((s) => s.variants.includes(s.defaultVariant), { message: 'defaultVariant must be one of variants', path: ['defaultVariant'] });
const configSchema = z.object({ plugins: z.array(pluginSchema).optional(), scenarios: z.array(scenarioSchema).optional() }).strict();

export interface LoadedConfig {
  readonly file: string;
  readonly config: KvmlabConfig;
}

/** The config file to load: `--config`'s (which must exist), else the first of CONFIG_FILES in cwd. */
export function findConfig(cwd: string, explicit: string | undefined): string | undefined {
  if (explicit !== undefined) {
    const file = resolve(cwd, explicit);
    if (!existsSync(file)) throw new UsageError(`--config ${explicit}: no such file`);
    return file;
  }
  return CONFIG_FILES.map((f) => join(cwd, f)).find((f) => existsSync(f));
}

export async function loadConfig(file: string): Promise<LoadedConfig> {
  const name = basename(file);
  let mod: unknown;
  try {
    if (/^\.[mc]?ts$/.test(extname(file))) {
      const { createJiti } = await import('jiti');
      // No cache on disk: nothing is written next to the user's files.
      mod = await createJiti(import.meta.url, { fsCache: false, moduleCache: false }).import(file, { default: true });
    } else {
      const ns = (await import(pathToFileURL(file).href)) as { default?: unknown };
      mod = ns.default ?? ns;
    }
  } catch (e) {
    throw new UsageError(`${name}: cannot load it: ${(e instanceof Error ? e.message : String(e)).split('\n')[0]!}`);
  }
  const r = configSchema.safeParse(mod);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    throw new UsageError(`${name}: ${issue.path.join('.') || 'default export'} ${issue.message}`);
  }
  return { file, config: mod as KvmlabConfig };
}
