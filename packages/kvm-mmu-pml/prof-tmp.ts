import { runMigration } from './src/scenarios/migration-run.ts';
const t = performance.now();
const r = runMigration({ variant: 'merged', seed: 1, workload: 'nested', l1MiB: Number(process.argv[2] ?? 4096), l2MiB: 512, wssMiB: 128, hotMiB: 16, hotFraction: 0.8, writesPerSec: 40000, l1WritesPerSec: 2000, bandwidthMBps: 125, downtimeMs: 300, maxRounds: 30, enablePml: true, eptAd: true, eptp12Ad: true, tdpForL2: false });
console.log((performance.now() - t).toFixed(0), 'ms', r.precopy.pagesLost);
