/** Apache ECharts in a browser bundle (the playground): its ESM entry, which the bundler resolves (see echarts-lib.ts). */
import * as echarts from 'echarts';

export { echarts };
