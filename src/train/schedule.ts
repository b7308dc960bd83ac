// The learning-rate schedule of a run config: the main schedule behind an optional linear
// warm-up (PyTorch's SequentialLR(LinearLR, main) recipe), counted in epochs or, with interval
// 'step', in optimizer steps; and the epochs at which a cosine-restarts run saves snapshots.
import type { Optimizer } from '../torch/optim/optimizer.js';
import {
  CosineAnnealingLR,
  CosineAnnealingWarmRestarts,
  LinearLR,
  type LRScheduler,
  MultiStepLR,
  OneCycleLR,
  PolynomialLR,
  ReduceLROnPlateau,
  SequentialLR,
  StepLR,
} from '../torch/optim/lr-scheduler/index.js';
import type { RunConfig } from './config.js';

/** Optimizer steps in an epoch of `batches` batches: the Trainer steps every `accumulate` batches and at the epoch's end. */
export function stepsPerEpoch(batches: number, accumulate: number): number {
  return Math.ceil(batches / accumulate);
}

/**
 * The scheduler of `config` for `optimizer` (undefined for 'none' without warm-up). Lengths in
 * the config count epochs after the warm-up; with interval 'step' each epoch is
 * `stepsPerEpoch` scheduler steps.
 */
export function buildScheduler(
  config: RunConfig,
  optimizer: Optimizer<any>,
  stepsPerEpoch: number,
): LRScheduler | ReduceLROnPlateau | undefined {
  const s = config.scheduler;
  const unit = s.interval === 'step' ? stepsPerEpoch : 1;
  const warm = s.warmupEpochs * unit;
  const rest = (config.epochs - s.warmupEpochs) * unit;
  if (s.name === 'plateau') {
    const { name: _n, warmupEpochs: _w, warmupStartFactor: _f, interval: _i, ...options } = s;
    return new ReduceLROnPlateau(optimizer, { ...options, mode: config.monitor === 'loss' ? 'min' : 'max' });
  }
  const warmup = warm > 0 ? new LinearLR(optimizer, { startFactor: s.warmupStartFactor, endFactor: 1, totalIters: warm }) : undefined;
  let main: LRScheduler | undefined;
  switch (s.name) {
    case 'none':
      break;
    case 'cosine':
      main = new CosineAnnealingLR(optimizer, { tMax: (s.tMax ?? config.epochs - s.warmupEpochs) * unit, etaMin: s.etaMin });
      break;
    case 'poly':
      main = new PolynomialLR(optimizer, { totalIters: (s.totalIters ?? config.epochs - s.warmupEpochs) * unit, power: s.power });
      break;
    case 'step':
      main = new StepLR(optimizer, { stepSize: s.stepSize * unit, gamma: s.gamma });
      break;
    case 'multistep':
      main = new MultiStepLR(optimizer, { milestones: s.milestones.map((m) => m * unit), gamma: s.gamma });
      break;
    case 'cosine-restarts':
      main = new CosineAnnealingWarmRestarts(optimizer, { t0: s.t0 * unit, tMult: s.tMult, etaMin: s.etaMin });
      break;
    case 'onecycle': {
      const { name: _n, warmupEpochs: _w, warmupStartFactor: _f, interval: _i, maxLr, ...options } = s;
      main = new OneCycleLR(optimizer, { ...options, maxLr: maxLr ?? optimizer.paramGroups.map((g) => g.lr), totalSteps: rest });
      break;
    }
  }
  if (warmup === undefined) return main;
  if (main === undefined) return warmup;
  return new SequentialLR(optimizer, [warmup, main], [warm]);
}

/**
 * Epochs (1-based) that end a cosine-restarts cycle, when `snapshots` is on: the first cycle
 * ends t0 epochs after the warm-up, each next one tMult times later (t0 = 2, tMult = 2 over
 * 14 epochs: 2, 6, 14). Empty otherwise.
 */
export function snapshotEpochs(config: RunConfig): number[] {
  const s = config.scheduler;
  if (!config.snapshots || s.name !== 'cosine-restarts') return [];
  const out: number[] = [];
  let end = s.warmupEpochs;
  for (let length = s.t0; end + length <= config.epochs; length *= s.tMult) {
    end += length;
    out.push(end);
  }
  return out;
}
