#!/usr/bin/env node
// Prints the ptp-sync figures the root README quotes (the demo-table cells and the comparison
// with the published figures), measured from the built packages: `npx tsc -b && node
// tools/ptp-figures.mjs [seeds]` (default seeds 0–4). Each cell is min–max over the seeds.
import { resolveScenarioOptions } from '../packages/hypervisor-core/dist/index.js';
import { ptpSyncScenario } from '../packages/ptp-kvm-arm64/dist/index.js';
import { x86PtpSyncScenario } from '../packages/ptp-kvm-x86/dist/index.js';

const seeds = (process.argv[2] ?? '0,1,2,3,4').split(',').map(Number);
const x86 = x86PtpSyncScenario();
const defs = { arm64: ptpSyncScenario, x86_64: x86 };

function runOne(arch, variant, seed, options) {
  const def = defs[arch];
  const extra = arch === 'x86_64' ? { retryProbeReads: 0 } : {};
  const r = def.run({ variant, arch, seed, options: resolveScenarioOptions(def, { ...extra, ...options }) });
  return r;
}

const fmt = (v, unit = 'ns') => {
  const a = Math.abs(v);
  if (unit === 'ns' && a >= 1e4) return `${(v / 1e3).toFixed(1)} µs`;
  if (unit === 'ns' && a >= 1e3) return `${(v / 1e3).toFixed(2)} µs`;
  return `${v.toFixed(1)} ns`;
};
const range = (xs) => {
  const lo = Math.min(...xs);
  const hi = Math.max(...xs);
  return lo === hi ? fmt(lo) : `${fmt(lo)} … ${fmt(hi)}`;
};

function cell(arch, variant, options = {}) {
  const runs = seeds.map((s) => runOne(arch, variant, s, options));
  const byMethod = new Map();
  for (const r of runs) {
    for (const m of r.details.methods) {
      const e = byMethod.get(m.method) ?? { label: m.label, mean: [], rms: [], mMean: [], mRms: [], mMin: [], mMax: [], sources: [] };
      e.mean.push(m.offset.meanNs);
      e.rms.push(m.offset.rmsNs);
      e.mMean.push(m.measured.meanNs);
      e.mRms.push(m.measured.rmsNs);
      e.mMin.push(m.measured.minNs);
      e.mMax.push(m.measured.maxNs);
      e.sources.push(m.chrony.sourcesText);
      byMethod.set(m.method, e);
    }
  }
  return { verdicts: [...new Set(runs.map((r) => r.verdict))].join('/'), methods: byMethod };
}

function show(title, arch, variant, options) {
  const c = cell(arch, variant, options);
  console.log(`\n### ${title} — ${arch} ${variant} ${JSON.stringify(options)} (seeds ${seeds.join(',')}): ${c.verdicts}`);
  for (const [k, e] of c.methods) {
    console.log(`- ${e.label} [${k}]: true mean ${range(e.mean)}, true RMS ${range(e.rms)}; measured mean ${range(e.mMean)}, measured RMS ${range(e.mRms)}, measured min…max ${fmt(Math.min(...e.mMin))} … ${fmt(Math.max(...e.mMax))}`);
    console.log(`    chronyc sources (seed ${seeds[0]}): ${e.sources[0]}`);
  }
}

console.log(`ptp-sync figures, node ${process.version}, default options (10 min virtual, poll 2^3 s, PI servo) unless shown`);
show('demo cell', 'arm64', 'none', {});
show('demo cell', 'arm64', 'rfc-v4', {});
show('demo cell', 'arm64', 'merged', {});
show('demo cell', 'x86_64', 'none', {});
show('demo cell', 'x86_64', 'merged', {});
// Beside the published figures: the conditions they were taken in.
show('arm64 RFC measurement (host chrony disabled, chrony refclock)', 'arm64', 'rfc-v4', { hostNtpSlewPpb: 0, servo: 'chrony' });
show('arm64 merged, ideal host', 'arm64', 'merged', { hostNtpSlewPpb: 0 });
show('x86 chrony on ptp_kvm (chrony refclock, poll 3)', 'x86_64', 'merged', { servo: 'chrony' });
show('x86 merged, ideal host', 'x86_64', 'merged', { hostNtpSlewPpb: 0 });
