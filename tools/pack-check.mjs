#!/usr/bin/env node
// Per-package install check: for every package under packages/, `npm pack` it and the workspace
// packages it depends on, install the tarballs into a fresh temporary directory with no
// workspace around it, and run the package README's example there with plain `node`.
// Fails if a package imports something it does not declare, ships TypeScript sources instead
// of built JS + types, or its example does not run.
//
// A package that hosts optional peers (@kvmlab/cli: the feature packages) is installed with
// only the peers named in HOSTED below, and the commands listed there must run on that set.
//
// Usage: node tools/pack-check.mjs [package-folder ...]   (default: every package)
import { execFileSync, spawnSync } from 'node:child_process';
import { builtinModules } from 'node:module';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const pkgDir = (name) => join(root, 'packages', name);
const manifest = (name) => JSON.parse(readFileSync(join(pkgDir(name), 'package.json'), 'utf8'));
const all = readdirSync(join(root, 'packages')).filter((d) => existsSync(join(pkgDir(d), 'package.json')));
const byName = new Map(all.map((d) => [manifest(d).name, d]));
const chosen = process.argv.slice(2).length > 0 ? process.argv.slice(2) : all;
const builtins = new Set([...builtinModules, ...builtinModules.map((m) => `node:${m}`)]);

/**
 * Packages installed next to a host package, and what must work with only those: the CLI with
 * the arm64 ptp_kvm series (psci-conduit, ptp-kvm-arm64; their closure adds ptp-kvm-core and
 * hypervisor-core) — nothing x86, no linux-kvm and so no koffi.
 */
const HOSTED = {
  cli: {
    peers: ['psci-conduit', 'ptp-kvm-arm64'],
    checks: [
      { args: ['list'], want: [/^ptp-sync — /m, /Not installed: .*@kvmlab\/ptp-kvm-x86/s], not: [/^nvmx-hlt-cr3 — /m, /^vmx-dirty-log — /m] },
      { args: ['run', 'ptp-sync', '--arch', 'arm64'], want: [/^ptp-sync \(arm64, variant merged, seed 0\): ok$/m] },
      { args: ['caps', '--arch', 'arm64'], want: [/plugins: psci-conduit, ptp-kvm-arm64/] },
      { args: ['run', 'nvmx-hlt-cr3'], status: 2, stderr: [/scenario nvmx-hlt-cr3 is not installed: it comes with @kvmlab\/nvmx-cr3/] },
    ],
    absent: ['node_modules/koffi', 'node_modules/@kvmlab/linux-kvm', 'node_modules/@kvmlab/ptp-kvm-x86', 'node_modules/@kvmlab/kvm-mmu-pml'],
  },
};

const run = (cmd, args, cwd) => execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

/** Workspace packages `folder` depends on, transitively (including itself). */
function closure(folder, seen = new Set()) {
  if (seen.has(folder)) return seen;
  seen.add(folder);
  for (const dep of Object.keys(manifest(folder).dependencies ?? {})) {
    const d = byName.get(dep);
    if (d !== undefined) closure(d, seen);
  }
  return seen;
}

/** Bare import specifiers in the built JS (static imports, re-exports and dynamic imports). */
function importsOf(dir) {
  const out = new Set();
  const walk = (d) => {
    for (const f of readdirSync(d)) {
      const p = join(d, f);
      if (statSync(p).isDirectory()) walk(p);
      else if (p.endsWith('.js')) {
        const src = readFileSync(p, 'utf8');
        for (const m of src.matchAll(/(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\s*\(\s*['"]([^'"]+)['"]\s*\)|^\s*import\s*['"]([^'"]+)['"]/gm)) {
          const spec = m[1] ?? m[2] ?? m[3];
          if (spec && !spec.startsWith('.') && !spec.startsWith('/')) out.add(spec);
        }
      }
    }
  };
  if (existsSync(dir)) walk(dir);
  return out;
}

const packageOf = (spec) => (spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]);

/** The README's example: its first ```js block (run with node), or for a bin, `--help`. */
function exampleOf(folder) {
  const readme = readFileSync(join(pkgDir(folder), 'README.md'), 'utf8');
  const m = readme.match(/```(?:js|javascript|mjs)\n([\s\S]*?)```/);
  return m ? m[1] : undefined;
}

const tarballs = new Map();
function pack(folder, dest) {
  if (!tarballs.has(folder)) {
    const out = run('npm', ['pack', '--json', '--pack-destination', dest], pkgDir(folder));
    // npm's JSON starts with a line of its own "["; a prepack script may print before it.
    const start = out.search(/^\[\s*$/m);
    const info = JSON.parse(out.slice(start >= 0 ? start : out.indexOf('[')))[0];
    tarballs.set(folder, { file: join(dest, info.filename), files: info.files.map((f) => f.path) });
  }
  return tarballs.get(folder);
}

let failures = 0;
const fail = (folder, why) => {
  failures++;
  console.log(`FAIL ${folder}: ${why}`);
};

console.log('building every package (tsc -b)…');
run('npx', ['tsc', '-b'], root);
const packDir = mkdtempSync(join(tmpdir(), 'kvmlab-pack-'));
for (const folder of chosen) {
  if (!all.includes(folder)) {
    fail(folder, 'no such package');
    continue;
  }
  const m = manifest(folder);
  const tb = pack(folder, packDir);
  // 1. Built JS + types, no TypeScript sources.
  const ts = tb.files.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'));
  if (ts.length > 0) fail(folder, `ships TypeScript sources: ${ts.slice(0, 3).join(', ')}`);
  const main = m.exports?.['.']?.default ?? m.main;
  if (!main || !tb.files.includes(main.replace(/^\.\//, ''))) fail(folder, `entry ${main} is not in the tarball`);
  if (!m.types || !tb.files.includes(m.types.replace(/^\.\//, ''))) fail(folder, `types ${m.types} are not in the tarball`);
  // 2. Every bare import is declared.
  const declared = new Set(Object.keys({ ...m.dependencies, ...m.peerDependencies, ...m.optionalDependencies }));
  for (const spec of importsOf(join(pkgDir(folder), 'dist'))) {
    if (builtins.has(spec) || builtins.has(packageOf(spec))) continue;
    if (!declared.has(packageOf(spec))) fail(folder, `imports "${spec}" but does not declare ${packageOf(spec)}`);
  }
  // 3. Install into an empty directory and run the README example.
  const work = mkdtempSync(join(tmpdir(), `kvmlab-install-${folder}-`));
  writeFileSync(join(work, 'package.json'), JSON.stringify({ name: 'pack-check', private: true, type: 'module' }));
  const hosted = HOSTED[folder];
  const folders = new Set(closure(folder));
  for (const p of hosted?.peers ?? []) for (const d of closure(byName.get(`@kvmlab/${p}`) ?? p)) folders.add(d);
  const files = [...folders].map((d) => pack(d, packDir).file);
  try {
    run('npm', ['install', '--no-audit', '--no-fund', '--ignore-scripts=false', ...files], work);
  } catch (e) {
    fail(folder, `npm install of the tarballs failed: ${e.stderr ?? e.message}`);
    continue;
  }
  const example = exampleOf(folder);
  let r;
  if (example !== undefined) {
    writeFileSync(join(work, 'example.mjs'), example);
    r = spawnSync(process.execPath, ['example.mjs'], { cwd: work, encoding: 'utf8', timeout: 120_000 });
  } else if (m.bin) {
    const bin = Object.keys(m.bin)[0];
    r = spawnSync(join(work, 'node_modules', '.bin', bin), ['--help'], { cwd: work, encoding: 'utf8', timeout: 120_000 });
  } else {
    fail(folder, 'README has no ```js example');
    continue;
  }
  if (r.status !== 0) fail(folder, `the README example exited ${r.status}: ${(r.stderr || r.stdout).split('\n').slice(0, 6).join('\n')}`);
  else if (hosted !== undefined) {
    // The host with only its HOSTED peers: each command as a user types it, in that folder.
    const bin = join(work, 'node_modules', '.bin', Object.keys(m.bin)[0]);
    for (const c of hosted.checks) {
      const h = spawnSync(bin, c.args, { cwd: work, encoding: 'utf8', timeout: 120_000 });
      const shown = `kvmlab ${c.args.join(' ')}`;
      if (h.status !== (c.status ?? 0)) fail(folder, `${shown} (with only ${hosted.peers.join(', ')}) exited ${h.status}: ${(h.stderr || h.stdout).split('\n').slice(0, 4).join('\n')}`);
      for (const w of c.want ?? []) if (!w.test(h.stdout)) fail(folder, `${shown}: output does not match ${w}`);
      for (const w of c.not ?? []) if (w.test(h.stdout)) fail(folder, `${shown}: output matches ${w}, which is not installed`);
      for (const w of c.stderr ?? []) if (!w.test(h.stderr)) fail(folder, `${shown}: stderr does not match ${w}`);
      if (h.status === (c.status ?? 0)) console.log(`ok   ${folder}: ${shown} with only ${hosted.peers.join(', ')} installed`);
    }
    for (const a of hosted.absent) if (existsSync(join(work, a))) fail(folder, `${a} was installed, but it is an optional peer nobody asked for`);
  }
  if (r.status === 0) console.log(`ok   ${folder} (${tb.files.length} files; example printed ${r.stdout.split('\n').filter(Boolean).length} lines) in ${relative(tmpdir(), work)}`);
  rmSync(work, { recursive: true, force: true });
}
rmSync(packDir, { recursive: true, force: true });
console.log(failures === 0 ? `pack-check: ${chosen.length} packages ok` : `pack-check: ${failures} failure(s)`);
process.exit(failures === 0 ? 0 : 1);
