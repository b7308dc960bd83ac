// A run config made into the objects the Trainer takes: model, datasets and their split,
// loaders with the augmentations, loss, optimizer, schedule and the PredictInfo a checkpoint
// needs. Options the config passes through are checked by the constructors that take them;
// their errors come back as ConfigErrors addressed to the config's field, all at once.
import { resolve } from 'node:path';
import { createModel } from '../models/registry.js';
import { initFromCheckpoint } from './init-weights.js';
import type { SegmentationModel } from '../models/base.js';
import { torch } from '../torch/index.js';
import { SGD } from '../torch/optim/sgd.js';
import { Adam, AdamW } from '../torch/optim/adam.js';
import { RMSprop } from '../torch/optim/rmsprop.js';
import type { Optimizer, ParamGroupInput } from '../torch/optim/optimizer.js';
import type { LRScheduler, ReduceLROnPlateau } from '../torch/optim/lr-scheduler/index.js';
import * as L from '../losses/index.js';
import * as A from '../data/augment/index.js';
import type { Transform } from '../data/augment/transform.js';
import type { Dataset } from '../data/dataset.js';
import { DataLoader } from '../data/loader.js';
import { open } from '../data/open.js';
import { ConcatDataset } from '../data/subset.js';
import { applySplit, kFold, loadSplit, randomSplit, type Split } from '../data/split.js';
import { spatialBlocks } from '../data/spatial-blocks.js';
import { checkNormalization, encoderNormalization, type Normalization } from '../data/normalize.js';
import {
  AUGMENT_NAMES,
  type AugmentName,
  ConfigError,
  type LossName,
  parseRunConfig,
  type RunConfig,
  type SourceConfig,
} from './config.js';
import { passThroughIssue, showValue } from './config-issues.js';
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
  /** Frees the model's, the optimizer's and the loss's tensors. */
  dispose(): void;
}

// Every name the config allows is a transform class of data/augment (checked by the compiler).
const TRANSFORMS = A satisfies Record<AugmentName, new (...args: any[]) => Transform>;
const COMPOSITES = ['OneOf', 'SomeOf', 'Compose'];

/** One augmentation of the config (OneOf/SomeOf/Compose with their `transforms`), or null after noting its issues. */
function augmentOf(item: unknown, path: string, source: string, issues: string[]): Transform | null {
  const { name, transforms, ...options } = (item ?? {}) as Record<string, unknown>;
  if (!AUGMENT_NAMES.includes(name as AugmentName)) {
    issues.push(`${source}: ${path}.name: expected one of ${AUGMENT_NAMES.map((n) => `"${n}"`).join(', ')}, got ${showValue(name)}`);
    return null;
  }
  try {
    if (COMPOSITES.includes(name as string)) {
      if (!Array.isArray(transforms) || transforms.length === 0) {
        issues.push(`${source}: ${path}.transforms: expected a non-empty list of augmentations, got ${showValue(transforms)}`);
        return null;
      }
      const children = transforms.map((t, i) => augmentOf(t, `${path}.transforms[${i}]`, source, issues));
      if (children.some((c) => c === null)) return null;
      return new TRANSFORMS[name as 'OneOf'](children as Transform[], options);
    }
    const Ctor = TRANSFORMS[name as AugmentName] as new (options?: unknown) => Transform;
    return new Ctor(transforms === undefined ? options : { ...options, transforms });
  } catch (e) {
    issues.push(passThroughIssue(source, path, e));
    return null;
  }
}

// Losses that skip the dataset's ignore value once told it (MCCLoss has no ignore index).
const IGNORING: readonly LossName[] = ['dice', 'jaccard', 'tversky', 'focal', 'lovasz', 'bce', 'ce'];

function lossOf(name: LossName, options: Record<string, unknown>, classes: number, ignoreIndex: number): L.Loss {
  const { mode: given, ...rest } = options;
  const mode = (given ?? (classes === 1 ? 'binary' : 'multiclass')) as L.LossMode;
  const o = IGNORING.includes(name) && !('ignoreIndex' in rest) ? { ...rest, ignoreIndex } : rest;
  if (name === 'bce' && classes !== 1 && given !== 'multilabel')
    throw new RangeError(`bce needs a binary model (model.classes 1), got model.classes ${classes}; use "ce" or "dice"`);
  if (name === 'ce' && classes === 1)
    throw new RangeError(`ce needs model.classes of 2 or more, got 1; use "bce" or "dice" for a binary model`);
  if (given !== undefined && !['dice', 'jaccard', 'tversky', 'focal', 'lovasz'].includes(name))
    throw new TypeError(`${name} takes no mode (only dice, jaccard, tversky, focal and lovasz do), got ${showValue(given)}`);
  switch (name) {
    case 'dice':
      return new L.DiceLoss(mode, o);
    case 'jaccard':
      return new L.JaccardLoss(mode, o);
    case 'tversky':
      return new L.TverskyLoss(mode, o);
    case 'focal':
      return new L.FocalLoss(mode, o);
    case 'lovasz':
      return new L.LovaszLoss(mode, o);
    case 'bce':
      return new L.SoftBCEWithLogitsLoss(o);
    case 'ce':
      return new L.SoftCrossEntropyLoss(o);
    case 'mcc':
      return new L.MCCLoss(o);
  }
}

/** The config's loss: one loss, or a WeightedSum of its terms (named by their loss names). */
function buildLoss(config: RunConfig, ignoreIndex: number, source: string, issues: string[]): L.Loss | null {
  const classes = config.model.classes;
  const one = (spec: Record<string, unknown>, path: string): L.Loss | null => {
    const { name, weight: _w, ...options } = spec;
    try {
      return lossOf(name as LossName, options, classes, ignoreIndex);
    } catch (e) {
      issues.push(passThroughIssue(source, path, e));
      return null;
    }
  };
  const spec = config.loss as { terms?: { name: LossName; weight: number }[] } & Record<string, unknown>;
  if (spec.terms !== undefined) {
    const specs = spec.terms;
    const terms = specs.map((t, i) => one(t, `loss.terms[${i}]`));
    if (terms.some((t) => t === null)) {
      for (const t of terms) t?.dispose();
      return null;
    }
    return L.sum(terms.map((t, i) => ({ weight: specs[i]!.weight, loss: t!, name: specs[i]!.name })));
  }
  return one(spec, 'loss');
}

const OPTIMIZERS = { sgd: SGD, adam: Adam, adamw: AdamW, rmsprop: RMSprop } as const;

/** The optimizer, with `paramGroups` picked by module path and the parameters no group names in a last group. */
function buildOptimizer(config: RunConfig, model: SegmentationModel, source: string): Optimizer<any> {
  const { name, paramGroups, ...defaults } = config.optimizer as RunConfig['optimizer'] & { paramGroups?: { params: string | string[] }[] };
  let params: ParamGroupInput[] | ReturnType<SegmentationModel['parameters']> = model.parameters();
  if (paramGroups !== undefined) {
    const named = model.namedParameters();
    const taken = new Set<unknown>();
    const issues: string[] = [];
    const groups: ParamGroupInput[] = paramGroups.map((g, i) => {
      const { params: under, ...options } = g;
      const prefixes = Array.isArray(under) ? under : [under];
      const picked = named.filter(([n, t]) => !taken.has(t) && prefixes.some((p) => n === p || n.startsWith(`${p}.`))).map(([, t]) => t);
      if (picked.length === 0) {
        const top = [...new Set(named.map(([n]) => n.split('.')[0]))];
        issues.push(
          `${source}: optimizer.paramGroups[${i}].params: no parameter of the model is under ${showValue(under)} (its modules: ${top.join(', ')})`,
        );
      }
      for (const t of picked) taken.add(t);
      return { ...options, params: picked };
    });
    if (issues.length > 0) throw new ConfigError(issues);
    const rest = named.filter(([, t]) => !taken.has(t)).map(([, t]) => t);
    params = rest.length > 0 ? [...groups, { params: rest }] : groups;
  }
  try {
    return new OPTIMIZERS[name](params as never, defaults as never);
  } catch (e) {
    throw new ConfigError([passThroughIssue(source, 'optimizer', e)]);
  }
}

/** data.open for each source; the model's classes and bands are the defaults each source checks its files against. */
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
    };
    const m = model!;
    const l = loss!;
    const opt = optimizer;
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
      dispose: () => {
        opt.dispose();
        l.dispose();
        m.dispose();
      },
    };
  } catch (e) {
    optimizer?.dispose();
    loss?.dispose();
    model?.dispose();
    throw e;
  }
}
