/**
 * `kvmlab conform --record <file>` writes the live kernel's answers where the user says (never into
 * the installed @kvmlab/linux-kvm), checks the path before the kernel runs, and `--recording <file>`
 * reads such a file back as the kernel column.
 */
import { FIXTURE_DIR, isAvailable } from '@kvmlab/linux-kvm';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cli } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'kvmlab-record-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('kvmlab conform --record / --recording', () => {
  it('a --record path whose folder is missing, or that is a folder, is a usage error (exit 2, one line naming it)', async () => {
    for (const bad of [join(dir, 'no-such-folder', 'k.json'), dir]) {
      const out = await cli(['conform', '--record', bad], []);
      expect(out.status).toBe(2);
      expect(out.stdout).toBe('');
      expect(out.stderr.split('\n')[0]).toContain(`--record ${bad}`);
    }
  });

  it('--recording of a file that is not a recording is a usage error', async () => {
    const junk = join(dir, 'junk.json');
    writeFileSync(junk, '{"format": 99}');
    const out = await cli(['conform', '--recording', junk], []);
    expect(out.status).toBe(2);
    expect(out.stderr.split('\n')[0]).toContain('is not a kvmlab kernel recording');
  });

  it.skipIf(!isAvailable().ok)('records to the chosen file, leaves the package fixtures alone, and reads the file back', async () => {
    const before = readdirSync(FIXTURE_DIR).sort();
    const file = join(dir, 'mine.json');
    const rec = await cli(['conform', '--record', file], []);
    expect(rec.stdout).toContain(`# recorded ${file}`);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toMatchObject({ format: 1, uname: expect.any(String) });
    expect(readdirSync(FIXTURE_DIR).sort()).toEqual(before);
    const back = await cli(['conform', '--recording', file], []);
    expect(back.status).toBe(rec.status);
    // the same kernel answers, so the same TAP lines
    const steps = (s: string) => s.split('\n').filter((l) => /^(not )?ok \d+ - /.test(l));
    expect(steps(back.stdout)).toEqual(steps(rec.stdout));
  }, 120_000);
});
