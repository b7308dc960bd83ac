#!/usr/bin/env node
// The segkit command line.
import { Command, InvalidArgumentError } from 'commander';
import { createRequire } from 'node:module';
import { registerDataCommands } from './data.js';
import { registerTrainCommands } from './train.js';
import { registerDemoCommand } from './demo.js';
import { registerPredictCommand, registerSubmitCommand } from './predict.js';
import { registerBenchCommand } from './bench.js';

const pkg = createRequire(import.meta.url)('../../package.json') as { version: string };

function positiveInt(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`expected a positive integer, got "${v}"`);
  return n;
}
function nonNegativeInt(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`expected a non-negative integer, got "${v}"`);
  return n;
}

const program = new Command();
program.name('segkit').description('Semantic segmentation for TypeScript at native speed').version(pkg.version);

program
  .command('info')
  .description('print the libtorch version and build, threads and CPU features')
  .option('--json', 'print JSON')
  .action(async (opts: { json?: boolean }) => {
    const { torch } = await import('../index.js');
    if (opts.json) {
      const { config: _c, ...rest } = torch.buildInfo();
      console.log(JSON.stringify(rest, null, 2));
    } else {
      const { infoLines } = await import('./info.js');
      for (const l of infoLines()) console.log(l);
    }
  });

registerDemoCommand(program, (min) => (min === 0 ? nonNegativeInt : positiveInt));
registerDataCommands(program);
registerTrainCommands(program);
registerPredictCommand(program);
registerSubmitCommand(program);
registerBenchCommand(program);

program.parseAsync().catch((e: Error) => {
  console.error(`segkit: ${e.message}`);
  process.exitCode = 1;
});
