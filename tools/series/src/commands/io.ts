// Where commands write; the CLI passes the process streams, tests pass arrays.
export interface Io {
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
  readonly cwd: string;
}
