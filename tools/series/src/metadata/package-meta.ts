// A package's series.json: the cover letters of the series the package models (as the
// mbox gives them, refreshed by `kvmlab-series sync`) and the hand-kept `models` map from
// each patch title to the source file(s) that model it.
import type { SeriesRecord } from './series-record.js';

/** One module that models (part of) a patch. */
export interface ModelRef {
  /** Source file, relative to the package folder (e.g. "src/host/ptp-service.ts"). */
  readonly file: string;
  /** Kernel files of the series diffstat this module models, when it models only part of the patch. */
  readonly kernel?: readonly string[];
}

export interface PackageSeriesMeta {
  readonly package?: string;
  /** The mbox file name the series were read from. */
  readonly source?: string;
  readonly series: readonly SeriesRecord[];
  /** Patch title (exactly as in the cover letter's shortlog) → the module(s) that model it. */
  readonly models: Readonly<Record<string, readonly ModelRef[]>>;
}

export type MetaParse = { readonly ok: true; readonly meta: PackageSeriesMeta } | { readonly ok: false; readonly errors: readonly string[] };

type Json = null | boolean | number | string | readonly Json[] | { readonly [k: string]: Json };

function isObject(v: unknown): v is Record<string, Json> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Validates the shape of a parsed series.json. Series records are shape-checked only at
 * the top (their content is compared field by field with the mbox by the check); `models`
 * values may be a path, a {file, kernel?} object or an array of either.
 */
export function parsePackageMeta(value: unknown): MetaParse {
  const errors: string[] = [];
  if (!isObject(value)) return { ok: false, errors: ['the file is not a JSON object'] };
  for (const k of ['package', 'source'] as const) {
    if (value[k] !== undefined && typeof value[k] !== 'string') errors.push(`"${k}" must be a string`);
  }
  const series = value['series'];
  if (!Array.isArray(series) || series.length === 0) errors.push('"series" must be a non-empty array of cover letters');
  else {
    series.forEach((s: unknown, i) => {
      if (!isObject(s)) errors.push(`series[${i}] must be an object`);
      else if (typeof s['messageId'] !== 'string') errors.push(`series[${i}].messageId must be a string`);
      else if (!Array.isArray(s['patches'])) errors.push(`series[${i}].patches must be an array`);
    });
  }
  const models: Record<string, ModelRef[]> = {};
  const rawModels = value['models'];
  if (!isObject(rawModels)) errors.push('"models" must be an object mapping patch titles to source files');
  else {
    for (const [title, v] of Object.entries(rawModels)) {
      const refs: ModelRef[] = [];
      const list = Array.isArray(v) ? v : [v];
      if (list.length === 0) errors.push(`models[${JSON.stringify(title)}] names no file`);
      list.forEach((r: unknown, i) => {
        const at = `models[${JSON.stringify(title)}]${Array.isArray(v) ? `[${i}]` : ''}`;
        if (typeof r === 'string' && r !== '') refs.push({ file: r });
        else if (isObject(r) && typeof r['file'] === 'string' && r['file'] !== '') {
          const kernel = r['kernel'];
          if (kernel === undefined) refs.push({ file: r['file'] });
          else if (Array.isArray(kernel) && kernel.every((p) => typeof p === 'string')) {
            refs.push({ file: r['file'], kernel: kernel as string[] });
          } else errors.push(`${at}.kernel must be an array of kernel paths`);
        } else errors.push(`${at} must be a file path or {"file": path, "kernel": [paths]}`);
      });
      models[title] = refs;
    }
  }
  if (errors.length > 0) return { ok: false, errors };
  const meta: PackageSeriesMeta = {
    ...(typeof value['package'] === 'string' ? { package: value['package'] } : {}),
    ...(typeof value['source'] === 'string' ? { source: value['source'] } : {}),
    series: series as unknown as SeriesRecord[],
    models,
  };
  return { ok: true, meta };
}
