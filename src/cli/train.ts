// `segkit train` and `segkit eval`: thin layers over train(), trainFolds() and evaluate(). The
// first Ctrl-C lets the current step finish and saves last.safetensors (exit 130, with the
// command that resumes); a second one, a second or more later, quits at once.
import { isAbsolute, resolve } from 'node:path';
import { InvalidArgumentError, Option, type Command } from 'commander';
import type { RunConfig } from '../train/config.js';
import type { ProgressMode } from './progress.js';
import { precisionOption } from './predict.js';

export interface TrainFlags {
  config?: string;
  printSchema?: boolean;
  runDir?: string;
  resume?: string;
  fold?: number;
  folds?: number;
  epochs?: number;
  batchSize?: number;
  lr?: number;
  init?: string;
  adversarial?: string;
  adversarialWeight?: number;
  seed?: number;
  threads?: number;
  device?: string;
  set?: string[];
  quiet?: boolean;
  json?: boolean;
  /** Resolve the config's relative data paths against this folder instead of the working directory (the demo). */
  dataRoot?: string;
}

interface EvalFlags {
  model: string;
  data: string;
  format?: string;
  batchSize: number;
  threshold?: number;
  tta?: 'none' | 'flips' | 'd4';
  precision?: 'float32' | 'bfloat16';
  device?: string;
  json?: boolean;
}

function integer(min: number): (v: string) => number {
  return (v) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`expected an integer >= ${min}, got "${v}"`);
    return n;
  };
}
function positive(v: string): number {
  const n = Number(v);
  if (!(n > 0) || !Number.isFinite(n)) throw new InvalidArgumentError(`expected a positive number, got "${v}"`);
  return n;
}
function nonNegative(v: string): number {
  const n = Number(v);
  if (!(n >= 0) || !Number.isFinite(n) || v.trim() === '') throw new InvalidArgumentError(`expected a number >= 0, got "${v}"`);
  return n;
}
function probability(v: string): number {
  const n = Number(v);
  if (!(n >= 0 && n <= 1)) throw new InvalidArgumentError(`expected a number from 0 to 1, got "${v}"`);
  return n;
}

const fail = (message: string): number => {
  process.stderr.write(`${message.startsWith('segkit') ? '' : 'segkit: '}${message}\n`);
  return 1;
};

/** The config a `segkit train` invocation runs: the file with the flags applied, or the run it resumes. */
async function resolveConfig(given: TrainFlags): Promise<{ config: RunConfig; runDir?: string; resume?: string; source: string }> {
  const flags = { ...given, set: given.set ?? [] };
  const { applyOverrides, readConfigFile } = await import('../train/config.js');
  const { resumeTarget } = await import('../train/run.js');
  if (flags.resume !== undefined) {
    const changed = (
      ['config', 'runDir', 'fold', 'folds', 'batchSize', 'lr', 'init', 'adversarial', 'adversarialWeight', 'seed'] as const
    ).filter((k) => flags[k] !== undefined);
    if (changed.length > 0 || flags.set.length > 0)
      throw new Error(
        `--resume continues a run as it was configured; only --epochs (to extend it), --threads and --device may be given, got ${[...changed.map((k) => `--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`), ...(flags.set.length ? ['--set'] : [])].join(', ')}`,
      );
    const target = await resumeTarget(flags.resume);
    let config = target.config;
    if (flags.epochs !== undefined && flags.epochs < config.epochs)
      throw new Error(`--epochs: a resumed run can only be extended: expected at least ${config.epochs}, got ${flags.epochs}`);
    const more: Record<string, unknown> = {};
    if (flags.epochs !== undefined) more.epochs = flags.epochs;
    if (flags.threads !== undefined) more.threads = flags.threads;
    if (flags.device !== undefined) more.device = flags.device;
    if (Object.keys(more).length > 0) config = applyOverrides(config, more, target.runDir);
    return { config, runDir: target.runDir, resume: target.checkpoint, source: target.runDir };
  }
  if (flags.config === undefined) throw new Error('train needs --config <file> (or --resume <run folder>, or --print-schema)');
  const raw =
    flags.dataRoot === undefined ? await readConfigFile(flags.config) : rebaseSources(await readConfigFile(flags.config), flags.dataRoot);
  const named: Record<string, unknown> = {};
  if (flags.epochs !== undefined) named.epochs = flags.epochs;
  if (flags.batchSize !== undefined) named['data.batchSize'] = flags.batchSize;
  if (flags.lr !== undefined) named['optimizer.lr'] = flags.lr;
  if (flags.init !== undefined) named['model.init'] = flags.init;
  if (flags.adversarial === 'none') named.adversarial = null;
  else if (flags.adversarial !== undefined) named['adversarial.encoding'] = flags.adversarial;
  if (flags.adversarialWeight !== undefined) {
    const inFile = (raw as { adversarial?: unknown } | null)?.adversarial;
    if (flags.adversarial === 'none' || (flags.adversarial === undefined && (inFile === undefined || inFile === null)))
      throw new Error(
        `--adversarial-weight: the run is not adversarial; add --adversarial basic|product|scaling (or adversarial: in ${flags.config})`,
      );
    named['adversarial.weight'] = flags.adversarialWeight;
  }
  if (flags.seed !== undefined) named.seed = flags.seed;
  if (flags.threads !== undefined) named.threads = flags.threads;
  if (flags.device !== undefined) named.device = flags.device;
  let config = applyOverrides(applyOverrides(raw, flags.set, flags.config), named, flags.config);
  if (flags.fold !== undefined) {
    const s = config.data.split;
    const folds = flags.folds ?? (s && 'folds' in s ? s.folds : undefined);
    if (folds === undefined) throw new Error(`--fold needs a k-fold split: data.split.folds in ${flags.config}, or --folds`);
    const split = {
      folds,
      fold: flags.fold,
      seed: s && 'seed' in s ? s.seed : config.seed,
      ...(s && 'groupBy' in s && s.groupBy !== undefined ? { groupBy: s.groupBy } : {}),
    };
    config = applyOverrides({ ...config, data: { ...config.data, split } }, [], flags.config);
  }
  return { config, runDir: flags.runDir, source: flags.config };
}

/** The config with the relative paths of data.train and data.val resolved against `root`. */
function rebaseSources(raw: unknown, root: string): unknown {
  const data = (raw as { data?: Record<string, unknown> } | null)?.data;
  if (data === null || typeof data !== 'object') return raw;
  const one = (s: unknown): unknown => {
    if (typeof s === 'string') return isAbsolute(s) ? s : resolve(root, s);
    if (s !== null && typeof s === 'object' && typeof (s as { path?: unknown }).path === 'string')
      return { ...s, path: one((s as { path: string }).path) };
    return s;
  };
  const side = (v: unknown) => (Array.isArray(v) ? v.map(one) : one(v));
  return { ...(raw as object), data: { ...data, train: side(data.train), ...(data.val === undefined ? {} : { val: side(data.val) }) } };
}

export async function trainCommand(flags: TrainFlags): Promise<number> {
  const { ConfigError, runConfigJsonSchema } = await import('../train/config.js');
  if (flags.printSchema) {
    process.stdout.write(`${JSON.stringify(runConfigJsonSchema(), null, 2)}\n`);
    return 0;
  }
  const { Progress } = await import('./progress.js');
  const mode: ProgressMode = flags.json ? 'json' : flags.quiet ? 'quiet' : 'human';
  const progress = new Progress({ mode });
  const controller = new AbortController();
  let firstInterrupt = 0;
  const onSigint = () => {
    // `timeout -s INT` signals the child and then its process group: one stop arrives twice
    // within microseconds. A second Ctrl-C counts from a second on.
    const now = performance.now();
    if (firstInterrupt > 0) {
      if (now - firstInterrupt >= 1000) process.exit(130);
      return;
    }
    firstInterrupt = now;
    controller.abort();
    progress.close();
    process.stderr.write('segkit: stopping after this step and saving last.safetensors (Ctrl-C again to quit at once)\n');
  };
  process.on('SIGINT', onSigint);
  try {
    const { config, runDir: given, resume, source } = await resolveConfig(flags);
    const { freshRunDir, train, trainFolds } = await import('../train/run.js');
    const runDir = resolve(given ?? freshRunDir(config.output, config.name));
    const options = { runDir, resume, signal: controller.signal, onEvent: progress.handle, source };
    if (flags.folds !== undefined && flags.fold === undefined) {
      const r = await trainFolds(config, { ...options, folds: flags.folds });
      if (mode === 'json')
        process.stdout.write(
          `${JSON.stringify({ type: 'folds', monitor: r.monitor, mean: r.mean, std: r.std, values: r.folds.map((f) => f.value), runDir: r.runDir })}\n`,
        );
      else
        process.stdout.write(
          `${r.folds.length} fold(s): ${r.monitor} ${r.mean.toFixed(4)} ± ${r.std.toFixed(4)} (${r.folds.map((f) => f.value.toFixed(4)).join(', ')}); summary in ${resolve(r.runDir, 'folds.json')}\n`,
        );
      return r.folds.some((f) => f.result.reason === 'interrupted') ? interrupted(progress, r.folds.at(-1)!.runDir) : 0;
    }
    const result = await train(config, options);
    if (result.reason === 'interrupted') return interrupted(progress, result.runDir ?? runDir);
    return 0;
  } catch (e) {
    progress.close();
    if (e instanceof ConfigError) return fail(e.message);
    return fail((e as Error).message ?? String(e));
  } finally {
    process.off('SIGINT', onSigint);
  }
}

function interrupted(
  progress: { lastStep: { epoch: number; step: number } | null; end: { epoch: number; step: number } | null },
  runDir: string,
): number {
  const at = progress.lastStep ?? { epoch: (progress.end?.epoch ?? 0) + 1, step: progress.end?.step ?? 0 };
  process.stderr.write(`interrupted at epoch ${at.epoch} step ${at.step}; resume with: segkit train --resume ${runDir}\n`);
  return 130;
}

async function evalCommand(flags: EvalFlags): Promise<number> {
  const { loadTrained, evaluate } = await import('../train/index.js');
  const { open } = await import('../data/open.js');
  const { DataLoader } = await import('../data/loader.js');
  const { Normalize } = await import('../data/augment/normalize.js');
  const { torch } = await import('../torch/index.js');
  const { model, predict } = loadTrained(flags.model);
  try {
    const device = flags.device ?? 'auto';
    if (!/^(auto|cpu|cuda(:\d+)?)$/.test(device)) throw new Error(`--device: expected auto, cpu, cuda or cuda:<index>, got "${device}"`);
    const gpu = torch.cuda.isAvailable() && torch.cuda.deviceCount() > 0;
    if (device.startsWith('cuda') && !gpu)
      throw new Error(`--device: expected auto or cpu (this libtorch has no CUDA, or no GPU is present), got "${device}"`);
    if (device.startsWith('cuda') || (device === 'auto' && gpu)) model.to({ device: device === 'auto' ? 'cuda' : device });
    const o = predict.modelOptions as { classes?: number; inChannels?: number };
    const classes = o.classes ?? 1;
    const options: Record<string, unknown> = { classes: classes === 1 ? 2 : classes, channels: o.inChannels ?? 3 };
    if (flags.format !== undefined) options.format = flags.format;
    if (predict.scaling !== undefined && predict.scaling !== null) options.scale = predict.scaling;
    const dataset = await open(flags.data, options as never);
    const norm = predict.normalization;
    const loader = new DataLoader(dataset, {
      batchSize: flags.batchSize,
      transform: norm ? new Normalize({ mean: norm.mean, std: norm.std }) : undefined,
    });
    const m = await evaluate(model, loader, {
      threshold: flags.threshold ?? predict.threshold,
      ignoreIndex: dataset.ignoreIndex,
      tta: flags.tta ?? 'none',
      autocast: flags.precision === 'bfloat16',
    });
    const scores = { iou: m.iou, dice: m.dice, precision: m.precision, recall: m.recall, tianchi: m.tianchi, objectF1: m.objectF1 };
    if (flags.json) {
      process.stdout.write(`${JSON.stringify({ ...scores, images: m.images, confusion: m.confusion })}\n`);
      return 0;
    }
    process.stdout.write(
      `${flags.model} on ${flags.data} (${m.images} image(s), threshold ${flags.threshold ?? predict.threshold}${flags.tta && flags.tta !== 'none' ? `, TTA ${flags.tta}` : ''}${flags.precision === 'bfloat16' ? ', bfloat16' : ''}):\n`,
    );
    for (const [k, v] of Object.entries(scores)) process.stdout.write(`  ${k.padEnd(10)} ${v.toFixed(4)}\n`);
    const c = m.confusion;
    process.stdout.write(`  pixels     tp ${c.tp}  fp ${c.fp}  fn ${c.fn}  tn ${c.tn}\n`);
    return 0;
  } finally {
    model.dispose();
  }
}

export function registerTrainCommands(program: Command): void {
  program
    .command('train')
    .description('train a model from a run config (YAML or JSON); see --print-schema for its fields')
    .option('-c, --config <file>', 'the run config')
    .option('--print-schema', 'print the JSON Schema of run configs and exit')
    .option('--run-dir <dir>', 'the run folder (default: <output>/<name>, numbered when taken)')
    .option('--resume <path>', 'continue a run from its folder (or its last.safetensors)')
    .option('--fold <k>', 'train fold k (0-based) of the k-fold split (data.split.folds or --folds)', integer(0))
    .option('--folds <k>', 'train every fold of a k-fold split of data.train into <run-dir>/fold-<k>', integer(2))
    .option('--epochs <n>', 'epochs (with --resume: extend the run to n epochs)', integer(1))
    .option('--batch-size <n>', 'data.batchSize', integer(1))
    .option('--lr <x>', 'optimizer.lr', positive)
    .option('--init <checkpoint>', "model.init: start from a trained checkpoint's weights (fine-tuning)")
    .addOption(
      new Option(
        '--adversarial <encoding>',
        "adversarial training (Luc et al. 2016) with this input encoding for the adversary; 'none' turns a config's off",
      ).choices(['basic', 'product', 'scaling', 'none']),
    )
    .option('--adversarial-weight <lambda>', "adversarial.weight: the adversarial term's weight (default 0.1)", nonNegative)
    .option('--seed <n>', 'seed', integer(0))
    .option('--threads <n>', 'intra-op threads', integer(1))
    .option('--device <device>', 'auto (the default: the GPU when there is one), cpu, cuda or cuda:<index>')
    .option(
      '--set <path=value>',
      'set a config field, value read as YAML (repeatable): --set optimizer.lr=0.01',
      (v: string, prev: string[] | undefined) => [...(prev ?? []), v],
    )
    .option('--quiet', 'print only the final lines')
    .option('--json', 'print every event as one JSON line on stdout, nothing else')
    .action(async (flags: TrainFlags) => {
      process.exitCode = await trainCommand(flags);
    });

  program
    .command('eval')
    .description('score a trained checkpoint on a labelled dataset: iou, dice, precision, recall, tianchi, objectF1')
    .requiredOption('--model <checkpoint>', 'a checkpoint written by segkit train (best.safetensors)')
    .requiredOption('--data <source>', 'a dataset folder or raster')
    .option('--format <layout>', 'folder, tianchi, tiles or geotiff (default: recognised from the layout)')
    .option('--batch-size <n>', 'images per batch', integer(1), 8)
    .option('--threshold <t>', "foreground probability (default: the checkpoint's)", probability)
    .addOption(
      new Option('--tta <mode>', 'test-time augmentation: mean probabilities over none, flips (4) or d4 (8)').choices([
        'none',
        'flips',
        'd4',
      ]),
    )
    .addOption(precisionOption())
    .option('--device <device>', 'auto (the GPU when there is one), cpu, cuda or cuda:<index>')
    .option('--json', 'print one JSON object')
    .action(async (flags: EvalFlags) => {
      try {
        process.exitCode = await evalCommand(flags);
      } catch (e) {
        process.exitCode = fail((e as Error).message);
      }
    });
}
