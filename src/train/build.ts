// A run config made into the objects the Trainer takes: model, datasets and their split,
// loaders with the augmentations, loss, optimizer, schedule and the PredictInfo a checkpoint
// needs. Options the config passes through are checked by the constructors that take them;
// their errors come back as ConfigErrors addressed to the config's field, all at once.
import { resolve } from 'node:path';
import { createModel } from '../models/registry.js';
import { createDiscriminator } from '../models/discriminators/registry.js';
import type { Discriminator } from '../models/discriminators/discriminator.js';
import { initFromCheckpoint } from './init-weights.js';
import { augmentOf, buildLoss, buildOptimizer } from './build-parts.js';
import type { SegmentationModel } from '../models/base.js';
import { torch } from '../torch/index.js';
import type { Optimizer } from '../torch/optim/optimizer.js';
import type { LRScheduler, ReduceLROnPlateau } from '../torch/optim/lr-scheduler/index.js';
import type * as L from '../losses/index.js';
import * as A from '../data/augment/index.js';
import type { Transform } from '../data/augment/transform.js';
import type { Dataset } from '../data/dataset.js';
import { DataLoader } from '../data/loader.js';
import { open } from '../data/open.js';
import { ConcatDataset } from '../data/subset.js';
import { applySplit, kFold, loadSplit, randomSplit, type Split } from '../data/split.js';
import { spatialBlocks } from '../data/spatial-blocks.js';
import { checkNormalization, encoderNormalization, type Normalization } from '../data/normalize.js';
import { ConfigError, parseRunConfig, type RunConfig, type SourceConfig } from './config.js';
import { passThroughIssue } from './config-issues.js';
import { buildScheduler, snapshotEpochs, stepsPerEpoch } from './schedule.js';
import type { Callback, PredictInfo, TrainEvent } from './events.js';
import type { TrainerOptions } from './options.js';

export interface BuildOptions {
  /** The run folder (none: the Trainer writes nothing). */
  runDir?: string;
  /** A checkpoint (a run's last.safetensors) to continue from. */
  resume?: string;
  signal?: AbortSignal;
  onEvent?: (event: TrainEvent) => void;
  callbacks?: Callback[];
  /** Where the config came from, for error messages (its file name); default 'config'. */
  source?: string;
}

export interface BuiltRun {
  config: RunConfig;
  model: SegmentationModel;
  trainSet: Dataset;
  valSet?: Dataset;
  split?: Split;
  trainLoader: DataLoader;
  valLoader?: DataLoader;
  loss: L.Loss;
  optimizer: Optimizer<any>;
  scheduler?: LRScheduler | ReduceLROnPlateau;
  normalization?: Normalization;
  predict: PredictInfo;
  snapshotEpochs: number[];
  trainerOptions: TrainerOptions;
  /** The adversary of an adversarial run (config.adversarial). */
  discriminator?: Discriminator;
  /** Frees the model's, the optimizer's and the loss's tensors. */
  dispose(): void;
}

// Every name the config allows is a transform class of data/augment (checked by the compiler).
async function openSources(
  config: RunConfig,
  side: 'train' | 'val',
  list: SourceConfig[],
  source: string,
  issues: string[],
): Promise<Dataset | null> {
  const { classes, inChannels } = config.model;
  const opened = await Promise.all(
    list.map(async ({ path, format, ...rest }, i) => {
      const options = { classes: classes === 1 ? 2 : classes, channels: inChannels, ...rest, ...(format === 'auto' ? {} : { format }) };
      try {
        return await open(resolve(path), options as never);
      } catch (e) {
        issues.push(passThroughIssue(source, `data.${side}[${i}]`, e));
        return null;
      }
    }),
  );
  if (opened.some((d) => d === null)) return null;
  const sets = opened as NonNullable<(typeof opened)[number]>[];
  const scaling = JSON.stringify(sets[0]!.scaling);
  sets.forEach((d, i) => {
    if (JSON.stringify(d.scaling) !== scaling)
      issues.push(
        `${source}: data.${side}[${i}]: scales its pixels by ${JSON.stringify(d.scaling)} but data.${side}[0] by ${scaling}; a model takes one scaling: give scale to every source`,
      );
  });
  return sets.length === 1 ? sets[0]! : new ConcatDataset(sets);
}

/** The train and validation sets: given, from a split file, a random split or fold k of a k-fold split. */
async function splitData(
  config: RunConfig,
  all: Dataset,
  val: Dataset | null,
  source: string,
): Promise<{ train: Dataset; val?: Dataset; split?: Split }> {
  const names = (d: Dataset) => (d.metaAt ? Array.from({ length: d.length }, (_, i) => d.metaAt!(i).name) : null);
  if (val !== null) {
    const [t, v] = [names(all), names(val)];
    return { train: all, val, split: t && v ? { method: 'given', seed: config.seed, sides: { train: t, val: v } } : undefined };
  }
  const s = config.data.split;
  if (s === undefined) return { train: all };
  try {
    let split: Split;
    if ('file' in s) split = await loadSplit(resolve(s.file));
    else {
      const groups = s.groupBy === undefined ? undefined : s.groupBy === 'group' ? 'group' : spatialBlocks(all, s.groupBy);
      split =
        'folds' in s
          ? kFold(all, s.folds, { seed: s.seed, groups })[s.fold]!
          : randomSplit(all, { train: 1 - s.valFraction, val: s.valFraction }, { seed: s.seed, groups });
    }
    const sides = applySplit(all, split);
    return { train: sides.train, val: sides.val, split };
  } catch (e) {
    if (e instanceof ConfigError) throw e;
    throw new ConfigError([passThroughIssue(source, 'data.split', e)]);
  }
}

/** The mean/std the model's inputs get (none for 'none'), checked against the model's bands. */
function normalizationOf(config: RunConfig, source: string): Normalization | undefined {
  const n = config.data.normalization;
  const bands = config.model.inChannels;
  if (n === 'none') return undefined;
  try {
    if (n === 'imagenet') {
      const norm = config.model.encoderName
        ? encoderNormalization(config.model.encoderName as string)
        : { mean: [...A.IMAGENET_MEAN], std: [...A.IMAGENET_STD] };
      if (norm.mean.length !== bands)
        throw new RangeError(
          `"imagenet" has ${norm.mean.length} channels but model.inChannels is ${bands}: give { mean, std } with ${bands} values, or "none"`,
        );
      return norm;
    }
  } catch (e) {
    throw new ConfigError([passThroughIssue(source, 'data.normalization', e)]);
  }
  try {
    return checkNormalization('Normalize', n, bands);
  } catch (e) {
    // The message names normalization.mean or .std: under data, that is the config's own path.
    throw new ConfigError([passThroughIssue(source, 'data', e)]);
  }
}

/** Class names for the checkpoint: background and building for a binary model. */
function classNames(classes: number): string[] {
  return classes <= 2 ? ['background', 'building'] : ['background', ...Array.from({ length: classes - 1 }, (_, i) => `class${i + 1}`)];
}

/** The device a config's `device` names, checked against what this libtorch has. */
function deviceFor(device: string, source: string, issues: string[]): string {
  const cuda = torch.cuda.isAvailable() ? torch.cuda.deviceCount() : 0;
  if (device === 'auto') return cuda > 0 ? 'cuda' : 'cpu';
  if (device === 'cpu') return device;
  const index = device === 'cuda' ? 0 : Number(device.slice(5));
  if (index >= cuda)
    issues.push(
      `${source}: device: expected ${cuda === 0 ? '"cpu" or "auto" (this libtorch has no CUDA, or no GPU is present)' : `a CUDA device below ${cuda}`}, got ${JSON.stringify(device)}`,
    );
  return device;
}

/** Builds everything a Trainer needs from a config (parsed again here, so a raw object works too). */
export async function buildRun(config: RunConfig | unknown, options: BuildOptions = {}): Promise<BuiltRun> {
  const source = options.source ?? 'config';
  const c = parseRunConfig(config, source);
  const issues: string[] = [];
  const { architecture, encoderWeights, init, ...modelRest } = c.model;
  const modelOptions = { ...modelRest, ...(encoderWeights === null ? {} : { encoderWeights }) };
  let model: SegmentationModel | null = null;
  let loss: L.Loss | null = null;
  let optimizer: Optimizer<any> | null = null;
  let discriminator: Discriminator | null = null;
  let discriminatorOptimizer: Optimizer<any> | null = null;
  try {
    torch.manualSeed(c.seed);
    try {
      model = createModel(architecture, modelOptions as never) as unknown as SegmentationModel;
    } catch (e) {
      issues.push(passThroughIssue(source, 'model', e));
    }
    if (model && init !== undefined)
      try {
        initFromCheckpoint(model, init, architecture, modelRest);
      } catch (e) {
        issues.push(`${source}: ${(e as Error).message}`);
      }
    const augment = c.augment.map((a, i) => augmentOf(a, `augment[${i}]`, source, issues));
    const ignoreIndex = (c.data.train[0]!.ignoreIndex as number | undefined) ?? 255;
    loss = buildLoss(c, ignoreIndex, source, issues);
    const trainAll = await openSources(c, 'train', c.data.train, source, issues);
    const valSet = c.data.val ? await openSources(c, 'val', c.data.val, source, issues) : null;
    const device = deviceFor(c.device, source, issues);
    if (issues.length > 0) throw new ConfigError(issues);
    // Before the optimizer: its state is made where the parameters are.
    if (device !== 'cpu') model!.to({ device });
    optimizer = buildOptimizer(c, model!, source);
    if (c.adversarial) {
      const a = c.adversarial;
      discriminator = createDiscriminator(a.discriminator, {
        encoding: a.encoding,
        classes: c.model.classes,
        inChannels: (modelRest as { inChannels?: number }).inChannels ?? 3,
      });
      if (device !== 'cpu') discriminator.to({ device });
      discriminatorOptimizer = buildOptimizer(c, discriminator, source, a.optimizer, 'adversarial.optimizer');
    }
    const { train, val, split } = await splitData(c, trainAll!, valSet, source);
    const normalization = normalizationOf(c, source);
    const norm = normalization ? new A.Normalize({ mean: normalization.mean, std: normalization.std }) : null;
    const crop =
      c.data.crop === undefined
        ? []
        : [
            new A.RandomCrop(
              typeof c.data.crop === 'number'
                ? { height: c.data.crop, width: c.data.crop }
                : { height: c.data.crop[0], width: c.data.crop[1] },
            ),
          ];
    const steps = [...crop, ...(augment as Transform[]), ...(norm ? [norm] : [])];
    const prefetch = c.data.prefetch === undefined ? {} : { prefetch: c.data.prefetch };
    const trainLoader = new DataLoader(train, {
      batchSize: c.data.batchSize,
      shuffle: true,
      seed: c.seed,
      transform: steps.length > 0 ? new A.Compose(steps) : undefined,
      ...prefetch,
    });
    const valLoader = val
      ? new DataLoader(val, { batchSize: c.data.valBatchSize ?? c.data.batchSize, transform: norm ?? undefined, ...prefetch })
      : undefined;
    const scheduler = buildScheduler(c, optimizer, stepsPerEpoch(trainLoader.length, c.accumulate));
    const scaling =
      (trainAll as { scaling?: unknown }).scaling ??
      ((trainAll as ConcatDataset).datasets?.[0] as { scaling?: unknown } | undefined)?.scaling;
    const predict: PredictInfo = {
      architecture,
      modelOptions: modelRest,
      scaling,
      normalization,
      classes: classNames(c.model.classes),
      threshold: c.threshold,
    };
    const snapshots = snapshotEpochs(c);
    const trainerOptions: TrainerOptions = {
      model: model!,
      train: trainLoader,
      val: valLoader,
      loss: loss!,
      optimizer,
      scheduler,
      schedulerInterval: c.scheduler.interval,
      epochs: c.epochs,
      accumulate: c.accumulate,
      clipGradNorm: c.clipGradNorm ?? undefined,
      autocast: c.autocast,
      channelsLast: c.channelsLast,
      ema: c.ema === false ? undefined : c.ema,
      swa: c.swa === false ? undefined : c.swa,
      validateEvery: c.validateEvery,
      monitor: c.monitor,
      earlyStopping: c.earlyStopping ?? undefined,
      threshold: c.threshold,
      ignoreIndex: train.ignoreIndex ?? ignoreIndex,
      runDir: options.runDir,
      config: c,
      split,
      predict,
      snapshotEpochs: snapshots.length > 0 ? snapshots : undefined,
      callbacks: options.callbacks,
      onEvent: options.onEvent,
      resume: options.resume,
      signal: options.signal,
      seed: c.seed,
      threads: c.threads,
      logEvery: c.logEvery,
      adversarial:
        discriminator && discriminatorOptimizer && c.adversarial
          ? {
              discriminator,
              optimizer: discriminatorOptimizer,
              weight: c.adversarial.weight,
              tau: c.adversarial.tau,
              pretrainSteps: c.adversarial.pretrainSteps,
            }
          : undefined,
    };
    const m = model!;
    const l = loss!;
    const opt = optimizer;
    const d = discriminator;
    const dOpt = discriminatorOptimizer;
    return {
      config: c,
      model: m,
      trainSet: train,
      valSet: val,
      split,
      trainLoader,
      valLoader,
      loss: l,
      optimizer: opt,
      scheduler,
      normalization,
      predict,
      snapshotEpochs: snapshots,
      trainerOptions,
      discriminator: d ?? undefined,
      dispose: () => {
        dOpt?.dispose();
        d?.dispose();
        opt.dispose();
        l.dispose();
        m.dispose();
      },
    };
  } catch (e) {
    discriminatorOptimizer?.dispose();
    discriminator?.dispose();
    optimizer?.dispose();
    loss?.dispose();
    model?.dispose();
    throw e;
  }
}
