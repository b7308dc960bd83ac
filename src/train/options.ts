// The Trainer's options: what a run can set, read and checked once with the project's validator.
import type { Module } from '../torch/nn/index.js';
import type { Optimizer } from '../torch/optim/optimizer.js';
import type { LRScheduler } from '../torch/optim/lr-scheduler/base.js';
import type { ReduceLROnPlateau } from '../torch/optim/lr-scheduler/plateau.js';
import type { ModelEmaOptions } from '../torch/optim/ema.js';
import type { Batch } from '../data/dataset.js';
import type { Split } from '../data/split.js';
import { DEFAULT_IGNORE_INDEX } from '../data/dataset.js';
import { checkIntList, invalidParameterError, is, readOptions } from '../validate.js';
import type { Callback, PredictInfo, TrainEvent } from './events.js';
import type { LossFn } from './step.js';
import { readAdversarialOptions, type AdversarialOptions, type ResolvedAdversarial } from './adversarial.js';

/** A loader the Trainer can drive: the DataLoader, or any async iterable of batches with a length. */
export interface TrainLoader extends AsyncIterable<Batch> {
  readonly length: number;
  setEpoch?(epoch: number): void;
  readonly batchSize?: number;
  readonly dataset?: { length: number };
}

export const MONITORS = ['dice', 'iou', 'loss', 'tianchi', 'objectF1', 'precision', 'recall'] as const;
export type Monitor = (typeof MONITORS)[number];

export interface TrainerOptions {
  model: Module;
  train: TrainLoader;
  val?: TrainLoader;
  loss: LossFn;
  optimizer: Optimizer<any>;
  scheduler?: LRScheduler | ReduceLROnPlateau;
  /** When the scheduler steps: after each epoch (default) or after each optimizer step. */
  schedulerInterval?: 'epoch' | 'step';
  epochs: number;
  /** Batches whose gradients add up before one optimizer step (default 1). */
  accumulate?: number;
  /** Clip the gradients' global L2 norm to this before each step. */
  clipGradNorm?: number;
  /** bf16 autocast of the forward pass (CPU). */
  autocast?: boolean;
  channelsLast?: boolean;
  /** An exponential moving average of the weights, validated and saved as `best` in their place. */
  ema?: boolean | ModelEmaOptions;
  /** Stochastic weight averaging from epoch `start` (1-based) at the constant rate `lr`. */
  swa?: { start: number; lr: number; annealEpochs?: number };
  validateEvery?: number;
  monitor?: Monitor;
  earlyStopping?: { patience: number; minDelta?: number };
  threshold?: number;
  ignoreIndex?: number;
  runDir?: string;
  config?: unknown;
  split?: Split;
  predict?: PredictInfo;
  /** Epochs (1-based) whose end saves snapshot-<epoch>.safetensors, for snapshot ensembles. */
  snapshotEpochs?: number[];
  callbacks?: Callback[];
  onEvent?: (event: TrainEvent) => void;
  /** A checkpoint of this run (its last.safetensors) to continue from. */
  resume?: string;
  /** Aborting ends the run after the current optimizer step, with a checkpoint to resume from. */
  signal?: AbortSignal;
  /** torch.manualSeed at the start of a new run (default 0). */
  seed?: number;
  threads?: number;
  /** Sets the CPU tensor cache's limit in bytes for the process (torch.cpu.setCacheLimit; 0 turns it off; default: left as it is, 'auto' unless changed: the most bytes live tensors have held, at least 1 GiB). */
  allocatorCache?: number;
  /** Write every n-th step event to log.jsonl (default 10; callbacks see every step). */
  logEvery?: number;
  /** Rewrite report.html at each epoch end (default true with a runDir). */
  report?: boolean;
  /** Best and worst validation images kept for the report (default 4 each). */
  samples?: number;
  /** Train against an adversary (Luc et al. 2016): the discriminator, its optimizer and lambda. */
  adversarial?: AdversarialOptions;
}

export type Resolved = Required<
  Pick<
    TrainerOptions,
    | 'schedulerInterval'
    | 'epochs'
    | 'accumulate'
    | 'autocast'
    | 'channelsLast'
    | 'validateEvery'
    | 'monitor'
    | 'threshold'
    | 'ignoreIndex'
    | 'seed'
    | 'logEvery'
    | 'report'
    | 'samples'
    | 'snapshotEpochs'
    | 'callbacks'
  >
> &
  Omit<TrainerOptions, 'adversarial'> & { adversarial?: ResolvedAdversarial };

const KEYS = [
  'model',
  'train',
  'val',
  'loss',
  'optimizer',
  'scheduler',
  'schedulerInterval',
  'epochs',
  'accumulate',
  'clipGradNorm',
  'autocast',
  'channelsLast',
  'ema',
  'swa',
  'validateEvery',
  'monitor',
  'earlyStopping',
  'threshold',
  'ignoreIndex',
  'runDir',
  'config',
  'split',
  'predict',
  'snapshotEpochs',
  'callbacks',
  'onEvent',
  'resume',
  'signal',
  'seed',
  'threads',
  'allocatorCache',
  'logEvery',
  'report',
  'samples',
  'adversarial',
];

const isLoader = (v: unknown) =>
  is.object(v) &&
  typeof (v as unknown as TrainLoader)[Symbol.asyncIterator] === 'function' &&
  typeof (v as unknown as TrainLoader).length === 'number';

export function readTrainerOptions(options: TrainerOptions): Resolved {
  const where = 'Trainer';
  if (!is.object(options))
    throw invalidParameterError(where, 'options', 'an object { model, train, loss, optimizer, epochs, ... }', options);
  const o = readOptions(where, options, KEYS);
  const model = o.custom<Module>(
    'model',
    undefined,
    (v) =>
      is.object(v) && typeof (v as unknown as Module).forward === 'function' && typeof (v as unknown as Module).parameters === 'function',
    'an nn.Module',
  );
  if (model === undefined) throw invalidParameterError(where, 'model', 'an nn.Module', undefined);
  const train = o.custom<TrainLoader>('train', undefined, isLoader, 'a DataLoader');
  if (train === undefined) throw invalidParameterError(where, 'train', 'a DataLoader', undefined);
  o.custom('val', undefined, (v) => v === undefined || isLoader(v), 'a DataLoader');
  const loss = o.get('loss');
  if (!(is.fn(loss) || (is.object(loss) && typeof (loss as { forward?: unknown }).forward === 'function')))
    throw invalidParameterError(where, 'loss', 'a Loss (losses.DiceLoss, ...) or a function (prediction, target) => Tensor', loss);
  const optimizer = o.get('optimizer');
  if (!is.object(optimizer) || typeof (optimizer as unknown as Optimizer<any>).step !== 'function')
    throw invalidParameterError(where, 'optimizer', 'an Optimizer (optim.SGD, optim.AdamW, ...)', optimizer);
  o.custom(
    'scheduler',
    undefined,
    (v) => v === undefined || (is.object(v) && typeof (v as unknown as LRScheduler).step === 'function'),
    'an LR scheduler',
  );
  const epochs = o.int('epochs', undefined, { min: 1 });
  const snapshotEpochs =
    o.get('snapshotEpochs') === undefined
      ? []
      : checkIntList(where, 'snapshotEpochs', o.get('snapshotEpochs'), { min: 1, nonEmpty: false });
  const swa = o.get('swa') as TrainerOptions['swa'];
  if (swa !== undefined) {
    const s = readOptions(`${where}.swa`, swa, ['start', 'lr', 'annealEpochs']);
    s.int('start', undefined, { min: 1, max: epochs });
    s.number('lr', undefined, { min: 0, exclusive: 'min' });
    s.int('annealEpochs', 1, { min: 0 });
  }
  const early = o.get('earlyStopping') as TrainerOptions['earlyStopping'];
  if (early !== undefined && early !== null) {
    const e = readOptions(`${where}.earlyStopping`, early, ['patience', 'minDelta']);
    e.int('patience', undefined, { min: 1 });
    e.number('minDelta', 0, { min: 0 });
  }
  const ema = o.get('ema');
  if (ema !== undefined && typeof ema !== 'boolean' && !is.object(ema))
    throw invalidParameterError(where, 'ema', 'a boolean or ModelEma options { decay, warmup, ... }', ema);
  const clip = o.get('clipGradNorm');
  if (clip !== undefined && clip !== null) o.number('clipGradNorm', undefined, { min: 0, exclusive: 'min' });
  o.custom('callbacks', [], (v) => Array.isArray(v) && v.every(is.object), 'an array of callback objects { onStepEnd?, onEpochEnd?, ... }');
  o.custom('onEvent', undefined, (v) => v === undefined || is.fn(v), 'a function (event) => void');
  o.custom('signal', undefined, (v) => v === undefined || v instanceof AbortSignal, 'an AbortSignal');
  for (const k of ['runDir', 'resume'] as const) o.custom(k, undefined, (v) => v === undefined || typeof v === 'string', 'a path');
  const runDir = o.get('runDir') as string | undefined;
  const accumulate = o.int('accumulate', 1, { min: 1 });
  const adv = o.get('adversarial');
  const adversarial = adv === undefined || adv === null ? undefined : readAdversarialOptions(`${where}.adversarial`, adv);
  // The adversary steps once per batch; accumulating the segmenter's gradients would put the
  // two networks' updates out of step.
  if (adversarial && accumulate > 1)
    throw invalidParameterError(
      where,
      'accumulate',
      '1 with adversarial training (the adversary steps every batch)',
      accumulate,
      RangeError,
    );
  return {
    ...options,
    model,
    train,
    loss: loss as LossFn,
    optimizer: optimizer as unknown as Optimizer<any>,
    epochs,
    schedulerInterval: o.choice('schedulerInterval', ['epoch', 'step'] as const, 'epoch'),
    accumulate,
    adversarial,
    autocast: o.bool('autocast', false),
    channelsLast: o.bool('channelsLast', false),
    validateEvery: o.int('validateEvery', 1, { min: 1 }),
    monitor: o.choice('monitor', MONITORS, 'dice'),
    threshold: o.probability('threshold', 0.5),
    ignoreIndex: o.int('ignoreIndex', DEFAULT_IGNORE_INDEX, {}),
    seed: o.int('seed', 0, { min: 0 }),
    allocatorCache: o.has('allocatorCache') ? o.int('allocatorCache', 0, { min: 0 }) : undefined,
    logEvery: o.int('logEvery', 10, { min: 1 }),
    report: o.bool('report', runDir !== undefined),
    samples: o.int('samples', 4, { min: 0 }),
    snapshotEpochs,
    callbacks: (o.get('callbacks') as Callback[] | undefined) ?? [],
  };
}
