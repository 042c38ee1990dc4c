/** Shapes shared by the suites, the report and the smoke test. */

/** A target from the issue, checked against a number measured in the same run. */
export interface Floor {
  id: string; // e.g. "pipeline.generate.speedup"
  description: string;
  target: string; // human-readable, e.g. ">= 2x"
  measured: number;
  unit: string;
  pass: boolean;
  note?: string; // likely cause when it misses
}

export interface SuiteResult {
  suite: SuiteName;
  seconds: number; // wall time of the suite itself
  data: Record<string, unknown>;
  floors: Floor[];
  notes: string[];
  skipped?: string; // why the suite did not run
}

export const SUITES = [
  'pipeline',
  'serving',
  'stages',
  'memory',
  'concurrency',
  'responsiveness',
  'bot',
] as const;
export type SuiteName = (typeof SUITES)[number];

export interface BenchReport {
  version: 1;
  startedAt: string;
  smoke: boolean;
  command: string;
  machine: Record<string, unknown>;
  model: { name: string; dir: string; preset: string | null; trained: boolean };
  suites: SuiteResult[];
  floors: Floor[];
}

export function floor(
  id: string,
  description: string,
  target: string,
  measured: number,
  unit: string,
  pass: boolean,
  note?: string,
): Floor {
  return { id, description, target, measured, unit, pass, ...(pass || !note ? {} : { note }) };
}
