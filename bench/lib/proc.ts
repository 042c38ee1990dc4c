/** Process memory from /proc (Linux): current and peak resident set size of a pid, in bytes. */
import { readFileSync } from 'node:fs';

export interface Rss {
  rss: number; // VmRSS
  peak: number; // VmHWM (high-water mark since start)
}

export function readRss(pid: number): Rss | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (key: string) =>
      Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN);
    return { rss: kb('VmRSS') * 1024, peak: kb('VmHWM') * 1024 };
  } catch {
    return undefined;
  }
}

export const MiB = 1024 * 1024;
