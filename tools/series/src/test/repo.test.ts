// The repo itself, read only: this is how `npm test` (and so .ci/run) runs the check.
import { describe, expect, it } from 'vitest';
import { checkWorkspace } from '../check/check.js';
import { main } from '../cli-main.js';
import { REPO_ROOT, SEED } from './helpers.js';

describe('this repository', () => {
  it('passes kvmlab-series check: every series.json matches the seed, every patch is modelled by an existing module', async () => {
    const r = await checkWorkspace({ root: REPO_ROOT, mboxPath: SEED });
    expect(r.errors).toEqual([]);
    expect(r.claims.filter((c) => c.modules.length === 0)).toEqual([]);
    expect([r.packagesChecked, r.seriesCount, r.claims.length]).toEqual([6, 4, 11]);
  });

  it("has every feature package's CHANGELOG.md series history up to date", async () => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await main(['changelog', '--check', '--root', REPO_ROOT], { out: (s) => out.push(s), err: (s) => err.push(s), cwd: REPO_ROOT });
    expect(err).toEqual([]);
    expect(code).toBe(0);
    expect(out).toHaveLength(6);
  });
});
