#!/usr/bin/env node
// `npm run mutate`: StrykerJS over the issue-22 target files (tools/mutate/targets.mjs), one
// Stryker run per file, niced, two workers, incremental (only mutants whose code or covering
// tests changed since the last run are tested again). Then the score table (report.mjs).
//
//   npm run mutate                      every target file
//   npm run mutate -- --since origin/main   only target files changed since that git ref (CI)
//   npm run mutate -- --file packages/psci-conduit/src/host/psci.ts   one file (repeatable)
//   npm run mutate -- --no-readme        do not rewrite the README table
//   npm run mutate -- --own-tests        only the mutated file's own package's tests (faster; the
//                                        score is a lower bound of the five-project score)
//   npm run mutate -- --focused          only the test files written for each target (targets.mjs;
//                                        fastest, also a lower bound)
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, hostname } from 'node:os';
import { fileURLToPath } from 'node:url';
import { focusedTests, slug, targetFiles } from './targets.mjs';

const root = fileURLToPath(new URL('../..', import.meta.url));
const argv = process.argv.slice(2);
const files = [];
let since;
let readme = true;
let ownTests = false;
let focused = false;
for (let i = 0; i < argv.length; i++) {
  const a = argv[i];
  if (a === '--since' || a === '--file') {
    const v = argv[++i];
    if (v === undefined || v.startsWith('--')) fail(`${a} needs a value`);
    if (a === '--since') since = v;
    else files.push(v);
  } else if (a === '--no-readme') readme = false;
  else if (a === '--own-tests') ownTests = true;
  else if (a === '--focused') focused = true;
  else fail(`unknown option '${a}' (known: --since <git-ref>, --file <path>, --own-tests, --focused, --no-readme)`);
}

function fail(msg) {
  console.error(`mutate: ${msg}`);
  process.exit(2);
}

const targets = targetFiles(root);
for (const f of files) if (!targets.includes(f)) fail(`'${f}' is not a mutation target (see tools/mutate/targets.mjs)`);
// Stryker mutates in place: a second run at the same time would instrument instrumented code
// (and `--since` would see the first run's instrumentation as a change). One run at a time.
const lock = `${root}reports/mutation/.lock`;
mkdirSync(`${root}reports/mutation`, { recursive: true });
if (existsSync(lock)) {
  const pid = Number(readFileSync(lock, 'utf8'));
  let alive = false;
  try {
    process.kill(pid, 0);
    alive = true;
  } catch {
    alive = false;
  }
  if (alive) fail(`another mutation run (pid ${pid}) is going on in this worktree; wait for it, or remove ${lock}`);
}
writeFileSync(lock, String(process.pid));
process.on('exit', () => rmSync(lock, { force: true }));

let todo = files.length > 0 ? files : targets;
if (since !== undefined) {
  const diff = spawnSync('git', ['diff', '--name-only', since, '--'], { cwd: root, encoding: 'utf8' });
  if (diff.status !== 0) fail(`git diff ${since} failed: ${diff.stderr.trim().split('\n')[0]}`);
  const changed = new Set(diff.stdout.split('\n').filter(Boolean));
  todo = todo.filter((f) => changed.has(f));
  console.log(`mutate: ${todo.length} target file(s) changed since ${since}`);
}

const stryker = `${root}node_modules/@stryker-mutator/core/bin/stryker.js`;
if (!existsSync(stryker)) fail('StrykerJS is not installed (npm ci installs @stryker-mutator/core)');
let failed = 0;
for (const file of todo) {
  console.log(`\nmutate: ${file}`);
  const run = spawnSync('nice', ['-n', '10', process.execPath, stryker, 'run', 'tools/mutate/stryker.config.mjs'], {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, KVMLAB_MUTATE: '1', KVMLAB_MUTATE_FILE: file, ...(ownTests || focused ? { KVMLAB_MUTATE_PROJECTS: packageOf(file) } : {}),
      ...(focused ? { KVMLAB_MUTATE_TEST_FILES: focusedTests(file).join(',') } : {}),
    },
  });
  if (run.status !== 0) {
    failed++;
    console.error(`mutate: Stryker failed on ${file} (exit ${run.status ?? run.signal})`);
  } else writeMeta(file);
}

/** The workspace folder name of a target file (packages/<name>/src/…). */
function packageOf(file) {
  return file.split('/')[1];
}

/** When, at which commit and on which machine a file's report was measured (report.mjs prints it). */
function writeMeta(file) {
  const git = (...a) => spawnSync('git', a, { cwd: root, encoding: 'utf8' }).stdout.trim();
  const dir = `${root}reports/mutation/json`;
  mkdirSync(dir, { recursive: true });
  const meta = {
    file,
    date: new Date().toISOString(),
    commit: git('rev-parse', '--short', 'HEAD'),
    // Uncommitted changes to the file or its package's tests make the commit an approximation.
    dirty: git('status', '--porcelain', '--', file.split('/src/')[0]) !== '',
    tests: focused ? `focused: ${focusedTests(file).join(' ')}` : ownTests ? packageOf(file) : 'hypervisor-core, psci-conduit, ptp-kvm-core, nvmx-cr3, kvm-mmu-pml',
    machine: `${cpus().length}× ${cpus()[0]?.model ?? 'unknown CPU'}, node ${process.version}, ${hostname()}`,
  };
  writeFileSync(`${dir}/${slug(file)}.meta.json`, `${JSON.stringify(meta, null, 2)}\n`);
}
if (readme && todo.length > 0) {
  const r = spawnSync(process.execPath, [fileURLToPath(new URL('./report.mjs', import.meta.url))], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) failed++;
}
process.exit(failed > 0 ? 1 : 0);
