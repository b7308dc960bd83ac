// The Trainer's own state, saved in every checkpoint beside the model's and the optimizer's, and
// what fit() returns.
import type { EndEvent, EndReason, EpochEvent, EvalMetrics, StepEvent } from './events.js';

export interface TrainResult {
  reason: EndReason;
  message: string;
  /** Last epoch completed (or reached, when interrupted). */
  epoch: number;
  step: number;
  best?: EndEvent['best'];
  history: EpochEvent[];
  runDir?: string;
  seconds: number;
}

/** The state of the loop itself, saved in every checkpoint beside the model's and the optimizer's. */
export interface LoopState {
  epoch: number; // epochs completed
  batch: number; // batches of the current epoch completed (0 at an epoch boundary)
  step: number; // batches trained in all
  bestValue: number | null;
  bestEpoch: number;
  bestMetrics: EvalMetrics | null;
  badEpochs: number;
  history: EpochEvent[];
  tally: Tally;
}

export interface Tally {
  lossSum: number;
  batches: number;
  images: number;
  tp: number;
  fp: number;
  fn: number;
  seconds: number;
  dataSeconds: number;
  /** Adversarial runs only (absent in checkpoints of other runs). */
  adversarialLossSum?: number;
  discriminatorLossSum?: number;
  discriminatorCorrect?: number;
  discriminatorSeen?: number;
}

export const newTally = (): Tally => ({ lossSum: 0, batches: 0, images: 0, tp: 0, fp: 0, fn: 0, seconds: 0, dataSeconds: 0 });

/** A non-finite loss: the run stops, and the last good checkpoint stays. */
export class NonFiniteLossError extends Error {
  constructor(
    message: string,
    readonly epoch: number,
    readonly step: number,
  ) {
    super(message);
    this.name = 'NonFiniteLossError';
  }
}

export const freshLoopState = (): LoopState => ({
  epoch: 0,
  batch: 0,
  step: 0,
  bestValue: null,
  bestEpoch: 0,
  bestMetrics: null,
  badEpochs: 0,
  history: [],
  tally: newTally(),
});

/** The foreground Dice of an epoch's counts. */
export function dice(t: Tally): number {
  const d = 2 * t.tp + t.fp + t.fn;
  return d === 0 ? 1 : (2 * t.tp) / d;
}

export function fmt(v: number | null): string {
  return v === null ? 'none' : v.toFixed(4);
}

/** Adds one trained batch to the epoch's tally. */
export function addBatch(
  t: Tally,
  r: { loss: number; tp: number; fp: number; fn: number },
  images: number,
  seconds: number,
  dataSeconds: number,
): void {
  t.lossSum += r.loss;
  t.batches += 1;
  t.images += images;
  t.tp += r.tp;
  t.fp += r.fp;
  t.fn += r.fn;
  t.seconds += seconds;
  t.dataSeconds += dataSeconds;
}

/** A step event's numbers over the epoch so far. */
export function running(t: Tally): Pick<StepEvent, 'runningLoss' | 'runningDice' | 'imagesPerSecond'> {
  return { runningLoss: t.lossSum / t.batches, runningDice: dice(t), imagesPerSecond: t.images / t.seconds };
}

/** The event of an epoch's end, from its tally and the best so far. */
export function epochEvent(state: LoopState, epoch: number, epochs: number, lr: number, validation: EvalMetrics | undefined): EpochEvent {
  const t = state.tally;
  return {
    type: 'epoch',
    epoch,
    epochs,
    step: state.step,
    trainLoss: t.lossSum / Math.max(t.batches, 1),
    trainDice: dice(t),
    lr,
    images: t.images,
    seconds: t.seconds,
    imagesPerSecond: t.images / Math.max(t.seconds, 1e-9),
    dataWaitFraction: t.dataSeconds / Math.max(t.seconds, 1e-9),
    validation,
    best: state.bestValue === null ? undefined : { epoch: state.bestEpoch, value: state.bestValue },
  };
}

/**
 * The end event and fit()'s result for a run that ends now: `checkpointFor(best)` is the file a
 * user should load (the best, or the last when the run was cut short or never validated).
 */
export function endOf(
  state: LoopState,
  monitor: string,
  reason: EndReason,
  message: string,
  seconds: number,
  checkpointFor: (useLast: boolean) => string | undefined,
  runDir: string | undefined,
): { event: EndEvent; result: TrainResult } {
  const best =
    state.bestValue === null
      ? undefined
      : { epoch: state.bestEpoch, value: state.bestValue, monitor, metrics: state.bestMetrics ?? undefined };
  const checkpoint = checkpointFor(reason === 'interrupted' || reason === 'stopped' || !best);
  const event: EndEvent = {
    type: 'end',
    time: new Date().toISOString(),
    reason,
    message,
    epoch: state.epoch,
    step: state.step,
    seconds,
    best,
    checkpoint,
  };
  const result: TrainResult = { reason, message, epoch: state.epoch, step: state.step, best, history: state.history, runDir, seconds };
  return { event, result };
}

/** Whether a validation's `value` beats the best so far by more than `minDelta` (lower is better for the loss). */
export function improves(state: LoopState, value: number, lowerIsBetter: boolean, minDelta: number): boolean {
  const best = state.bestValue;
  if (best === null) return Number.isFinite(value);
  return lowerIsBetter ? value < best - minDelta : value > best + minDelta;
}
