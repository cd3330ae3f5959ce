import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

// The app is built from the TypeScript sources of the model packages (their `@kvmlab/source`
// export condition), into app/ (or KVMLAB_PLAYGROUND_OUT, which the tests use).
const conditions = ['@kvmlab/source', 'module', 'browser', 'development|production'];
export default defineConfig({
  root: fileURLToPath(new URL('./web', import.meta.url)),
  base: './',
  resolve: {
    conditions,
    // The CLI's chart renderer loads ECharts with Node's createRequire (fast in Node); the page
    // takes the same charts from the browser variant of that one module.
    alias: [{ find: /^\.\/echarts-lib\.js$/, replacement: fileURLToPath(new URL('../cli/src/report/render/echarts-lib.browser.ts', import.meta.url)) }],
  },
  worker: { format: 'es' },
  build: {
    outDir: process.env['KVMLAB_PLAYGROUND_OUT'] ?? fileURLToPath(new URL('./app', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
    chunkSizeWarningLimit: 4096,
    reportCompressedSize: false,
  },
  server: { host: '127.0.0.1', port: 5173 },
  preview: { host: '127.0.0.1', port: 4173 },
});
