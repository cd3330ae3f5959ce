/**
 * The verdict words the CLI prints (README, "Verdicts"): bug-reproduced, ok, fail. Scenarios
 * may still say 'pass' (core's ScenarioVerdict keeps it for compatibility); it means no symptom,
 * which the CLI calls ok everywhere — tables, JSON, reports.
 */
export type Verdict = 'bug-reproduced' | 'ok' | 'fail';

export const VERDICTS: readonly Verdict[] = ['bug-reproduced', 'ok', 'fail'];

export function displayVerdict(v: string): string {
  return v === 'pass' ? 'ok' : v;
}
