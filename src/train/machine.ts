// The machine a run ran on, for its log and report: what its timings should be read against.
import { createRequire } from 'node:module';
import { cpus, hostname, platform, totalmem } from 'node:os';
import { torch } from '../torch/index.js';
import type { MachineInfo } from './events.js';

const pkgVersion = (): string => {
  try {
    return (createRequire(import.meta.url)('../../package.json') as { version: string }).version;
  } catch {
    return 'unknown';
  }
};

export function machineInfo(): MachineInfo {
  const c = cpus();
  return {
    hostname: hostname(),
    platform: `${platform()} ${process.arch}`,
    cpus: c[0]?.model.trim() ?? 'unknown',
    cores: c.length,
    threads: torch.getNumThreads(),
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    libtorch: torch.buildInfo().libtorch,
    segkit: pkgVersion(),
  };
}
