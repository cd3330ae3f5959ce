// `kvmlab-series check`: prints which module models which patch, then every problem, then
// one summary line; exit status 1 when there is any error.
import { checkWorkspace } from '../check/check.js';
import type { Io } from './io.js';

export async function checkCommand(root: string, mboxPath: string, json: boolean, io: Io): Promise<number> {
  const report = await checkWorkspace({ root, mboxPath });
  if (json) {
    io.out(JSON.stringify(report, null, 2));
    return report.errors.length > 0 ? 1 : 0;
  }
  let series = '';
  for (const c of report.claims) {
    if (c.seriesTitle !== series) {
      series = c.seriesTitle;
      io.out(`${series}`);
    }
    io.out(`  ${c.patch}`);
    io.out(`      ${c.modules.length === 0 ? '(no module)' : c.modules.join(', ')}`);
  }
  for (const w of report.warnings) io.err(`warning: ${w}`);
  for (const e of report.errors) io.err(`error: ${e}`);
  const modelled = report.claims.filter((c) => c.modules.length > 0).length;
  io.out(
    `check: ${report.errors.length} error(s), ${report.warnings.length} warning(s); ` +
      `${report.packagesChecked} package(s), ${report.seriesCount} series, ${modelled}/${report.claims.length} patches modelled`,
  );
  return report.errors.length > 0 ? 1 : 0;
}
