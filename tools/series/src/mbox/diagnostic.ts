// A problem found while reading an mbox or checking metadata. Reading never stops at the
// first problem: every diagnostic names the 1-based line of the input it is about, and the
// rest of the file is still read.
export type Severity = 'error' | 'warning';

export interface Diagnostic {
  readonly severity: Severity;
  /** 1-based line number in the mbox file (0 when the problem is not tied to a line). */
  readonly line: number;
  readonly message: string;
}

export function error(line: number, message: string): Diagnostic {
  return { severity: 'error', line, message };
}

export function warning(line: number, message: string): Diagnostic {
  return { severity: 'warning', line, message };
}

/** `file:line: error: message`, the format compilers use, so editors can jump to it. */
export function formatDiagnostic(d: Diagnostic, file: string): string {
  const where = d.line > 0 ? `${file}:${d.line}` : file;
  return `${where}: ${d.severity}: ${d.message}`;
}

export function hasErrors(ds: readonly Diagnostic[]): boolean {
  return ds.some((d) => d.severity === 'error');
}
