/** The machine and software a run happened on (goes at the top of every report). */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus, loadavg, totalmem } from 'node:os';

export function machineInfo(): Record<string, unknown> {
  const require = createRequire(import.meta.url);
  const version = (pkg: string) => {
    try {
      return (require(`${pkg}/package.json`) as { version: string }).version;
    } catch {
      return 'unknown';
    }
  };
  let cpuModel = cpus()[0]?.model ?? 'unknown';
  try {
    const line = readFileSync('/proc/cpuinfo', 'utf8').match(/^model name\s*:\s*(.+)$/m);
    if (line?.[1]) cpuModel = line[1];
  } catch {}
  return {
    cpu: cpuModel,
    logicalCores: cpus().length,
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    loadAverage1m: Math.round(loadavg()[0]! * 100) / 100,
    platform: `${process.platform} ${process.arch}`,
    node: process.version,
    onnxruntimeNode: version('onnxruntime-node'),
    grpcJs: version('@grpc/grpc-js'),
    sharp: version('sharp'),
  };
}
