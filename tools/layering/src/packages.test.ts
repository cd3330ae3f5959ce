/**
 * What each package's tarball holds, as `npm pack --dry-run --json` lists it: no test or bench
 * code; no source maps and no sourceMappingURL comment (the packages ship built JS + types, not
 * their sources, so a map could only point outside the tarball); every package.json export
 * target inside it (bar the repository-only `./bench` subpaths, which must be outside, and the
 * workspace-only "@kvmlab/source" condition); every relative README link resolving to a file of
 * the tarball; and no install line that asks the npm registry for a @kvmlab package (none is
 * published).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, normalize } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO } from './import-graph.js';

const PACKAGES = readdirSync(join(REPO, 'packages')).filter((d) => existsSync(join(REPO, 'packages', d, 'package.json')));

/** The files `npm pack` would put in the tarball (no lifecycle scripts: the playground's prepack builds the app). */
function packedFiles(dir: string): Set<string> {
  const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const json = JSON.parse(out.slice(out.indexOf('['))) as { files: { path: string }[] }[];
  return new Set(json[0]!.files.map((f) => f.path));
}

const TEST_OR_BENCH = /(^|\/)(test|tests|__tests__|bench)(\/|$)|\.(test|spec|bench)\.[cm]?[jt]sx?(\.map)?$|(^|\/)bench\.[^/]*$|\.test-d\.ts$/;

/** Relative link targets of a markdown text: [x](t), ![x](t), and [x]: t definitions. */
function relativeLinks(md: string): string[] {
  const inline = [...md.matchAll(/!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)].map((m) => m[1]!);
  const defs = [...md.matchAll(/^\s*\[[^\]]+\]:\s*<?(\S+?)>?(\s|$)/gm)].map((m) => m[1]!);
  return [...inline, ...defs].filter((t) => !/^(https?:|mailto:|#)/.test(t));
}

function exportTargets(node: unknown, key = '', condition = ''): [subpath: string, condition: string, target: string][] {
  if (typeof node === 'string') return [[key, condition, node]];
  if (node === null || typeof node !== 'object') return [];
  return Object.entries(node).flatMap(([k, v]) => (k.startsWith('.') ? exportTargets(v, k, '') : exportTargets(v, key, k)));
}

describe('package tarballs (npm pack --dry-run)', () => {
  for (const name of PACKAGES) {
    it(`@kvmlab/${name}`, () => {
      const dir = join(REPO, 'packages', name);
      const files = packedFiles(dir);
      expect(files.size).toBeGreaterThan(3);
      expect([...files].filter((f) => TEST_OR_BENCH.test(f))).toEqual([]);
      expect([...files].filter((f) => f.endsWith('.map'))).toEqual([]);
      const mapped = [...files].filter((f) => /\.(c|m)?js$|\.d\.ts$/.test(f) && /\/\/# sourceMappingURL=/.test(readFileSync(join(dir, f), 'utf8')));
      expect(mapped).toEqual([]);
      // no TypeScript sources either (what the maps would have pointed at)
      expect([...files].filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))).toEqual([]);
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { exports?: unknown; bin?: Record<string, string> };
      for (const [subpath, condition, target] of exportTargets(pkg.exports)) {
        if (condition === '@kvmlab/source') continue; // the workspace's sources, by design not packed
        const p = normalize(target);
        if (subpath === './bench') expect(files.has(p), `${subpath} → ${target} is repository-only`).toBe(false);
        else expect(files.has(p), `${subpath} → ${target}`).toBe(true);
      }
      for (const target of Object.values(pkg.bin ?? {})) expect(files.has(normalize(target))).toBe(true);
      expect(files.has('README.md')).toBe(true);
      const readme = readFileSync(join(dir, 'README.md'), 'utf8');
      const broken = relativeLinks(readme)
        .map((t) => normalize(decodeURI(t.split('#')[0]!)))
        .filter((t) => t !== '.' && !files.has(t) && ![...files].some((f) => f.startsWith(`${t.replace(/\/$/, '')}/`)));
      expect(broken).toEqual([]);
      expect(readme).not.toMatch(/\bnpm (install|i|add)\s+@kvmlab\//);
    }, 60_000);
  }
});
