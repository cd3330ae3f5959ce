/** Typed reads from a result's details and series: the report's chart-spec readers, reused. */
export { at, isObj, num, numbers, nullableNumbers, objects, seriesOf, str, strings } from '../../../cli/src/report/chart-specs/read.js';

export const hex = (v: number | null | undefined): string => (v === null || v === undefined ? '—' : `0x${Math.round(v).toString(16)}`);
