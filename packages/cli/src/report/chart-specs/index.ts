/**
 * The report's chart specs — plain data other front ends can draw: each scenario's lead figure
 * (leads.ts) and its secondary charts (series-charts.ts).
 */
export type * from './types.js';
export { leadFor, type Lead } from './leads.js';
export { chartSpecs, headlineChart, HEX_AXIS, type ChartLine, type ChartSpec } from './series-charts.js';
export { DEDICATED_LEADS, hasDedicatedLead } from './dedicated.js';
