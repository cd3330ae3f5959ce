/**
 * `kvmlab affected` over real version strings — mainline, stable, -rc, Debian/Ubuntu, RHEL,
 * Fedora-style — with the verdict and the reason each gets, `--backports` (list and file), the
 * default of this machine's uname -r, `--run` on 5.3 / 5.4 / 5.5 showing the symptoms each has,
 * and bad input as a one-line usage error.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { release } from 'node:os';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { affectedOutputJson } from '../src/json-output.js';
import { installedScenarioDefs } from '../src/scenarios.js';

const installedScenarios = await installedScenarioDefs();
import { cli, expectUsageError, spawnCli } from './helpers.js';

type Row = { id: string; status: string; reason: string; variant: string | null };
const affected = async (args: readonly string[]): Promise<{ rows: Row[]; doc: ReturnType<typeof affectedOutputJson.parse> }> => {
  const r = await cli(['affected', '--json', ...args], []);
  expect(r.status, r.stderr).toBe(0);
  const doc = affectedOutputJson.parse(JSON.parse(r.stdout));
  return { rows: doc.rows, doc };
};
const statusOf = (rows: Row[], id: string): string => rows.find((r) => r.id === id)!.status;

/** [version, nested-pml, nvmx-guest-cr3, ptp-kvm-arm64, a reason the CR3 row must give]. */
const TABLE: readonly (readonly [string, string, string, string, RegExp])[] = [
  ['5.3', 'vulnerable', 'vulnerable', 'absent', /the 5\.3 backport came in 5\.3\.16/],
  ['5.3.15', 'vulnerable', 'vulnerable', 'absent', /5\.3\.16/],
  ['v5.3.16', 'vulnerable', 'not-affected', 'absent', /backported in 5\.3\.16/],
  ['5.4', 'not-affected', 'vulnerable', 'absent', /the 5\.4 backport came in 5\.4\.3/],
  ['5.4.2', 'not-affected', 'vulnerable', 'absent', /5\.4\.3/],
  ['5.4.3', 'not-affected', 'not-affected', 'absent', /backported in 5\.4\.3/],
  ['5.4.300', 'not-affected', 'not-affected', 'absent', /backported in 5\.4\.3/],
  ['5.5-rc1', 'not-affected', 'not-affected', 'absent', /fixed in mainline 5\.5 \(04f11ef45810\)/],
  ['5.4.0-150-generic', 'not-affected', 'unknown', 'absent', /does not say which 5\.4 stable release.*--backports 04f11ef45810/],
  ['4.19.200', 'unknown', 'vulnerable', 'absent', /tagged for stable but never applied to 4\.19/],
  ['4.19.0-21-amd64', 'unknown', 'unknown', 'absent', /tagged for stable but never applied to 4\.19; a vendor kernel may carry 04f11ef45810/],
  ['4.18.0-348.el8.x86_64', 'unknown', 'unknown', 'absent', /vendor kernel may carry/],
  ['4.4.0', 'unknown', 'unknown', 'absent', /older than 4\.9/],
  ['6.1.0-18-amd64', 'not-affected', 'not-affected', 'present', /fixed in mainline 5\.5/],
  ['6.5.6-300.fc39.x86_64', 'not-affected', 'not-affected', 'present', /fixed in mainline 5\.5/],
  ['5.13-rc1', 'not-affected', 'not-affected', 'present', /fixed in mainline 5\.5/],
  ['5.12.19', 'not-affected', 'not-affected', 'absent', /fixed in mainline 5\.5/],
];

describe('kvmlab affected: verdicts for real version strings', () => {
  it.each(TABLE)('%s → PML %s, CR3 %s, ptp_kvm arm64 %s', async (version, pml, cr3, ptp, reason) => {
    const { rows } = await affected(['--kernel', version]);
    expect(statusOf(rows, 'nested-pml')).toBe(pml);
    expect(statusOf(rows, 'nvmx-guest-cr3')).toBe(cr3);
    expect(statusOf(rows, 'ptp-kvm-arm64')).toBe(ptp);
    expect(statusOf(rows, 'ptp-kvm-x86')).toBe(version === '4.4.0' ? 'absent' : 'present'); // KVM_HC_CLOCK_PAIRING: 4.11
    expect(rows.find((r) => r.id === 'nvmx-guest-cr3')!.reason).toMatch(reason);
  });

  it('the text uses the vocabulary of /sys/devices/system/cpu/vulnerabilities', async () => {
    const r = await cli(['affected', '--kernel', '5.4.0-150-generic'], []);
    expect(r.stdout).toMatch(/nVMX GUEST_CR3 after HLT\s+Unknown \(cannot tell from the version\)/);
    expect(r.stdout).toMatch(/nested PML dirty logging\s+Not affected/);
    expect(r.stdout).toMatch(/1 cannot be told from the version/);
  });

  it('--backports: a vendor kernel that carries the fix is not affected; the variant follows', async () => {
    const { rows, doc } = await affected(['--kernel', '5.4.0-150-generic', '--backports', '04f11ef45810']);
    expect(doc.backports).toEqual(['04f11ef45810']);
    expect(rows.find((r) => r.id === 'nvmx-guest-cr3')).toMatchObject({ status: 'not-affected', variant: 'merged', reason: expect.stringMatching(/carries 04f11ef45810/) });
    const full = await affected(['--kernel', '4.19.0-21-amd64', '--backports', '04f11ef45810da5ae2542dd78cc353f3761bd2cb']);
    expect(statusOf(full.rows, 'nvmx-guest-cr3')).toBe('not-affected');
  });

  it('--backports FILE.json: the commits a vendor kernel carries', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kvmlab-bp-'));
    writeFileSync(join(dir, 'vendor.json'), JSON.stringify({ backports: ['1f4e5fc83a42', '04f11ef45810'] }));
    const r = await cli(['affected', '--json', '--kernel', '5.3.0-7-generic', '--backports', 'vendor.json'], [], dir);
    const doc = affectedOutputJson.parse(JSON.parse(r.stdout));
    expect(doc.rows.filter((x) => x.kind === 'fix').map((x) => x.status)).toEqual(['not-affected', 'not-affected']);
    writeFileSync(join(dir, 'bad.json'), '{"backports": [1]}');
    expectUsageError(await cli(['affected', '--kernel', '5.4', '--backports', 'bad.json'], [], dir), /--backports bad\.json: expected a JSON array/);
  });

  it('without --kernel: this machine\'s uname -r', async () => {
    const r = await cli(['affected', '--json'], []);
    expect(r.status, r.stderr).toBe(0);
    expect(affectedOutputJson.parse(JSON.parse(r.stdout)).kernel).toBe(release());
    const t = await cli(['affected'], []);
    expect(t.stdout).toContain(`Linux ${release()} (this machine, uname -r)`);
  });

  it.each([['five'], ['5'], ['5.4.x!'], ['']])('bad version %j → exit 2, one line naming it', async (v) => {
    expectUsageError(await cli(['affected', '--kernel', v], []), /kernel version/);
  });
});

describe('kvmlab affected --run: the symptoms of that kernel, on the model of it', () => {
  const runs = async (version: string) => {
    const r = await cli(['affected', '--json', '--run', '--kernel', version, '--arch', 'x86_64'], installedScenarios);
    expect(r.status, r.stderr).toBe(0);
    const doc = affectedOutputJson.parse(JSON.parse(r.stdout));
    return new Map(doc.runs!.map((x) => [x.scenario, x]));
  };

  it('5.3: both x86 bugs strike (pages lost, CR3 corruptions, the selftest fails)', async () => {
    const m = await runs('5.3');
    expect(m.get('nested-migration')).toMatchObject({ variant: 'pre-fix', verdict: 'bug-reproduced' });
    expect(m.get('vmx-dirty-log')).toMatchObject({ variant: 'pre-fix', verdict: 'bug-reproduced' });
    expect(m.get('nvmx-hlt-cr3')).toMatchObject({ variant: 'pre-fix', verdict: 'bug-reproduced' });
    expect(m.get('nested-muen-migration')).toMatchObject({ variant: 'kvm-mmu-pml=pre-fix,nvmx-cr3=pre-fix', verdict: 'bug-reproduced' });
  });

  it('5.4: only the CR3 bug; 5.4.3 (the stable backport): neither', async () => {
    const m = await runs('5.4');
    expect(m.get('nested-migration')).toMatchObject({ variant: 'merged', verdict: 'ok' });
    expect(m.get('vmx-dirty-log')).toMatchObject({ variant: 'merged', verdict: 'ok' });
    expect(m.get('nvmx-hlt-cr3')).toMatchObject({ variant: 'pre-fix', verdict: 'bug-reproduced' });
    expect(m.get('nested-muen-migration')!.headline).toBe('pages lost: 0');
    const s = await runs('5.4.3');
    expect(s.get('nvmx-hlt-cr3')).toMatchObject({ variant: 'merged', verdict: 'ok' });
  });

  it('5.5: neither; arm64 before 5.13 runs ptp-sync as a guest without ptp_kvm (NTP only), 5.13 with it', async () => {
    const m = await runs('5.5');
    expect([...m.values()].every((x) => x.verdict === 'ok' || x.verdict === 'pass')).toBe(true);
    const r = await cli(['affected', '--json', '--run', '--kernel', '5.5', '--arch', 'arm64'], installedScenarios);
    const ptp = affectedOutputJson.parse(JSON.parse(r.stdout)).runs!;
    expect(ptp).toEqual([expect.objectContaining({ scenario: 'ptp-sync', variant: 'none', verdict: 'bug-reproduced' })]);
    const r13 = await cli(['affected', '--json', '--run', '--kernel', '5.13', '--arch', 'arm64'], installedScenarios);
    expect(affectedOutputJson.parse(JSON.parse(r13.stdout)).runs).toEqual([expect.objectContaining({ scenario: 'ptp-sync', variant: 'merged', verdict: 'ok' })]);
  });
});

describe('the built binary', () => {
  it('affected --run loads the installed scenarios and prints each symptom under the verdicts', () => {
    const r = spawnCli(['affected', '--kernel', '5.4', '--run', '--arch', 'x86_64']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/Run on the model of this kernel:/);
    expect(r.stdout).toMatch(/nvmx-hlt-cr3\s+pre-fix\s+bug-reproduced\s+\d+ CR3 corruptions? detected/);
    expect(r.stdout).toMatch(/nested-migration\s+merged\s+ok/);
  });
});
