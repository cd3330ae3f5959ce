/** One event of a run, as the scrubber shows it. Built from a scenario's result (ResultJson). */
export interface Step {
  /** What happened, e.g. "nested VM-Enter of S1". */
  readonly title: string;
  /** Where in the run: "frame 5", "sync 3", "round 2". */
  readonly where: string;
  /** Values shown with it, CR3s and GPAs in hex. */
  readonly fields: readonly (readonly [string, string])[];
  /** The symptom showed here (a corruption caught, a wrong dirty bit, pages lost). */
  readonly bad: boolean;
  /** A log line the guest or the test wrote at this step (Muen's check, the selftest's assert). */
  readonly log?: string;
}
