#!/usr/bin/env node
// The segkit command line.
import { Command, InvalidArgumentError } from 'commander';
import { createRequire } from 'node:module';
import { registerDataCommands } from './data.js';
import { registerTrainCommands } from './train.js';

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
function positiveNumber(v: string): number {
  const n = Number(v);
  if (!(n > 0)) throw new InvalidArgumentError(`expected a positive number, got "${v}"`);
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

program
  .command('demo')
  .description('train a small net on the bundled Catanduanes building tiles and report loss and IoU')
  .option('--epochs <n>', 'epochs', positiveInt, 30)
  .option('--lr <x>', 'learning rate', positiveNumber, 0.05)
  .option('--batch-size <n>', 'batch size', positiveInt, 6)
  .option('--threads <n>', 'intra-op threads (default: all cores)', positiveInt)
  .option('--seed <n>', 'random seed', nonNegativeInt, 0)
  .option('--data <dir>', 'dataset folder (default: the bundled one)')
  .option('--no-allocator-cache', 'return freed tensor memory to the kernel at once (slower: see torch.setAllocatorCache)')
  .action(
    async (opts: {
      epochs: number;
      lr: number;
      batchSize: number;
      threads?: number;
      seed: number;
      data?: string;
      allocatorCache: boolean;
    }) => {
      const { torch } = await import('../index.js');
      if (opts.threads) torch.setNumThreads(opts.threads);
      if (opts.allocatorCache) torch.setAllocatorCache(256 * 2 ** 20);
      const { runDemo } = await import('./demo.js');
      await runDemo({ epochs: opts.epochs, lr: opts.lr, batchSize: opts.batchSize, seed: opts.seed, dir: opts.data });
    },
  );

registerDataCommands(program);
registerTrainCommands(program);

program.parseAsync().catch((e: Error) => {
  console.error(`segkit: ${e.message}`);
  process.exitCode = 1;
});
