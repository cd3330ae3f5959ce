/**
 * Apache ECharts for Node: its single-file build (the package's `require` entry, dist/echarts.js),
 * the same code as its ESM entry, which Node would load as some 700 modules, one resolve and
 * compile each — about half a second of every `kvmlab demo`; the bundle loads in about a tenth of
 * that. The browser playground, which renders the same charts, is built with
 * echarts-lib.browser.ts in place of this file (its vite.config.ts): a bundler resolves the ESM
 * entry itself, and a browser has no createRequire.
 */
import { createRequire } from 'node:module';
import type * as EChartsModule from 'echarts';

export const echarts = createRequire(import.meta.url)('echarts') as typeof EChartsModule;
