/**
 * Reading a result's free-form `details` and `series` where a lead figure needs them: each
 * reader returns undefined when the shape is not there (an older or a foreign scenario), so
 * the figure falls back instead of drawing something wrong.
 */
import type { ResultJson } from '../../json-output.js';

export type Json = unknown;

export const isObj = (v: Json): v is Readonly<Record<string, Json>> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** details.a.b.c, or undefined. */
export function at(v: Json, ...path: readonly string[]): Json {
  let cur = v;
  for (const k of path) {
    if (!isObj(cur)) return undefined;
    cur = cur[k];
  }
  return cur;
}

export const numbers = (v: Json): readonly number[] | undefined => (Array.isArray(v) && v.every((x) => typeof x === 'number') ? (v as number[]) : undefined);
export const nullableNumbers = (v: Json): readonly (number | null)[] | undefined =>
  Array.isArray(v) && v.every((x) => x === null || typeof x === 'number') ? (v as (number | null)[]) : undefined;
export const strings = (v: Json): readonly string[] | undefined => (Array.isArray(v) && v.every((x) => typeof x === 'string') ? (v as string[]) : undefined);
export const objects = (v: Json): readonly Readonly<Record<string, Json>>[] | undefined => (Array.isArray(v) && v.every(isObj) ? (v as Record<string, Json>[]) : undefined);
export const num = (v: Json): number | undefined => (typeof v === 'number' ? v : undefined);
export const str = (v: Json): string | undefined => (typeof v === 'string' ? v : undefined);

export function figure(r: ResultJson, label: string): ResultJson['figures'][number] | undefined {
  return r.headline.label === label ? r.headline : r.figures.find((f) => f.label === label);
}

export function seriesOf(r: ResultJson, name: string): ResultJson['series'][number] | undefined {
  return r.series.find((s) => s.name === name);
}
