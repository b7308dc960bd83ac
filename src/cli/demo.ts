// `segkit demo`: `segkit train` on the bundled run config (data/demo/run.yaml), whose data paths
// are resolved against the package, so the demo runs from any working directory.
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { trainCommand } from './train.js';

/** The package's root: two levels above this file in src/cli and in dist/cli alike. */
export const PACKAGE_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const DEMO_CONFIG = fileURLToPath(new URL('../../data/demo/run.yaml', import.meta.url));

interface DemoFlags {
  epochs?: number;
  threads?: number;
  device?: string;
  runDir?: string;
  set?: string[];
  quiet?: boolean;
  json?: boolean;
}

export function registerDemoCommand(program: Command, integer: (min: number) => (v: string) => number): void {
  program
    .command('demo')
    .description(
      'train a U-Net (resnet18, random init) on real drone tiles of three regions, validate on a fourth, write the report (about 10 minutes on 2 cores)',
    )
    .option('--epochs <n>', 'epochs (the config has 8)', integer(1))
    .option('--threads <n>', 'intra-op threads', integer(1))
    .option('--device <device>', 'auto (the GPU when there is one), cpu, cuda or cuda:<index>')
    .option('--run-dir <dir>', 'the run folder (default: runs/demo, numbered when taken)')
    .option('--set <path=value>', 'set a field of data/demo/run.yaml (repeatable)', (v: string, prev: string[] | undefined) => [
      ...(prev ?? []),
      v,
    ])
    .option('--quiet', 'print only the final lines')
    .option('--json', 'print every event as one JSON line on stdout, nothing else')
    .action(async (flags: DemoFlags) => {
      process.exitCode = await trainCommand({ ...flags, config: DEMO_CONFIG, dataRoot: PACKAGE_ROOT });
    });
}
