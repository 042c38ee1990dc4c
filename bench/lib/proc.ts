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

/**
 * CPU time (s) a pid has used so far, all its threads (utime + stime of /proc/pid/stat, in clock ticks of
 * 1/100 s on Linux), or undefined when the process is gone.
 */
export function readCpuSeconds(pid: number): number | undefined {
  try {
    // the command name (field 2) may hold spaces; the fields after its closing parenthesis are plain
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime (fields 14 and 15)
  } catch {
    return undefined;
  }
}
