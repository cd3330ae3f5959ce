// A temp copy of the repo's metadata (package.json + series.json of each feature package,
// every module the models map names as an empty file, and the seed), so tests can make it
// drift without touching the repo.
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { FEATURE_PACKAGES } from '../check/workspace.js';
import { parsePackageMeta } from '../metadata/package-meta.js';
import { REPO_ROOT, SEED, tempDir } from './helpers.js';

export interface Fixture {
  readonly root: string;
  readonly mbox: string;
  readonly meta: (pkg: string) => Record<string, unknown>;
  readonly writeMeta: (pkg: string, doc: unknown) => void;
}

export function makeWorkspace(t: { onTestFinished: (fn: () => void) => void }): Fixture {
  const root = tempDir(t);
  writeFileSync(join(root, 'package.json'), JSON.stringify({ name: 'kvmlab', workspaces: ['packages/*'] }));
  const mbox = join(root, 'seed.mbox');
  copyFileSync(SEED, mbox);
  for (const pkg of FEATURE_PACKAGES) {
    const dir = join(root, 'packages', pkg);
    mkdirSync(dir, { recursive: true });
    copyFileSync(join(REPO_ROOT, 'packages', pkg, 'package.json'), join(dir, 'package.json'));
    const text = readFileSync(join(REPO_ROOT, 'packages', pkg, 'series.json'), 'utf8');
    writeFileSync(join(dir, 'series.json'), text);
    const parsed = parsePackageMeta(JSON.parse(text));
    if (!parsed.ok) throw new Error(`${pkg}/series.json: ${parsed.errors.join('; ')}`);
    for (const refs of Object.values(parsed.meta.models)) {
      for (const r of refs) {
        mkdirSync(dirname(join(dir, r.file)), { recursive: true });
        writeFileSync(join(dir, r.file), '// fixture\n');
      }
    }
  }
  const metaPath = (pkg: string): string => join(root, 'packages', pkg, 'series.json');
  return {
    root,
    mbox,
    meta: (pkg) => JSON.parse(readFileSync(metaPath(pkg), 'utf8')) as Record<string, unknown>,
    writeMeta: (pkg, doc) => writeFileSync(metaPath(pkg), `${JSON.stringify(doc, null, 2)}\n`),
  };
}
