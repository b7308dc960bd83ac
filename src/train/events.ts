// What a training run reports: one event type per moment (start, step, validation, epoch,
// checkpoint, end). The same objects go to callbacks, to the run folder's log.jsonl, to
// `segkit train --json` and to the report, so every consumer sees the same numbers.

/** Scores of a model on a labelled set (evaluate()'s result, a validation event's metrics). */
export interface EvalMetrics {
  /** Mean loss per image, when a loss was given. */
  loss?: number;
  /** Pixel IoU of the foreground (binary), or the mean over classes (multiclass), micro-averaged. */
  iou: number;
  /** Pixel Dice (F1) over the whole set, micro-averaged as IoU. */
  dice: number;
  precision: number;
  recall: number;
  /** Tianchi's score: the mean over images of the per-image Dice (1 when both masks are empty). */
  tianchi: number;
  /** SpaceNet's building F1: connected components matched at IoU >= 0.5. */
  objectF1: number;
  /** Pixel counts summed over the set (foreground for binary, summed over classes for multiclass). */
  confusion: { tp: number; fp: number; fn: number; tn: number };
  /** Images scored. */
  images: number;
}

/** The machine a run ran on (for the report and the log). */
export interface MachineInfo {
  hostname: string;
  platform: string;
  cpus: string;
  cores: number;
  threads: number;
  memoryGiB: number;
  node: string;
  libtorch: string;
  segkit: string;
}

/** An adversarial run's numbers (Luc et al. 2016), means over the epoch so far. */
export interface AdversarialStats {
  /** The segmenter's adversarial term: -log of the adversary calling its maps true. */
  loss: number;
  /** The adversary's binary cross-entropy on true plus predicted maps. */
  discriminatorLoss: number;
  /** Fraction of true and predicted maps the adversary classed right. */
  discriminatorAccuracy: number;
}

export interface StartEvent {
  type: 'start';
  time: string;
  /** 1-based epoch the run starts at (greater than 1 when resumed). */
  epoch: number;
  epochs: number;
  /** Global optimizer step count so far (0 for a new run). */
  step: number;
  batchesPerEpoch: number;
  trainImages: number;
  valImages: number;
  monitor: string;
  resumedFrom?: string;
  machine: MachineInfo;
  config?: unknown;
}

export interface StepEvent {
  type: 'step';
  epoch: number;
  /** 1-based batch index within the epoch. */
  batch: number;
  batches: number;
  /** Global count of batches trained (optimizer steps times `accumulate`). */
  step: number;
  loss: number;
  /** Mean of the epoch's batch losses so far. */
  runningLoss: number;
  /** Dice of the epoch's training predictions so far (thresholded, micro-averaged). */
  runningDice: number;
  lr: number;
  images: number;
  /** Seconds this batch took, from asking the loader for it to the end of its step. */
  seconds: number;
  /** Of which waiting for the loader. */
  dataSeconds: number;
  imagesPerSecond: number;
  /** Adversarial runs: the running means, and whether only the adversary is learning yet. */
  adversarial?: AdversarialStats & { pretraining: boolean };
}

export interface ValidationEvent {
  type: 'validation';
  epoch: number;
  step: number;
  metrics: EvalMetrics;
  /** The monitored value and whether it is the best so far. */
  monitor: string;
  value: number;
  best: boolean;
  seconds: number;
}

export interface EpochEvent {
  type: 'epoch';
  epoch: number;
  epochs: number;
  step: number;
  trainLoss: number;
  trainDice: number;
  /** Learning rate of the first parameter group at the epoch's end. */
  lr: number;
  images: number;
  seconds: number;
  imagesPerSecond: number;
  /** Fraction of the epoch's training time spent waiting for batches. */
  dataWaitFraction: number;
  validation?: EvalMetrics;
  /** Adversarial runs: the epoch's means. */
  adversarial?: AdversarialStats;
  /** Best monitored value so far and its epoch. */
  best?: { epoch: number; value: number };
}

export interface CheckpointEvent {
  type: 'checkpoint';
  epoch: number;
  step: number;
  kind: 'last' | 'best' | 'snapshot' | 'interrupt';
  path: string;
}

/** 'error': something failed (a checkpoint that could not be written, a bad batch); fit() rethrows it. */
export type EndReason = 'completed' | 'early-stopping' | 'stopped' | 'interrupted' | 'non-finite-loss' | 'error';

export interface EndEvent {
  type: 'end';
  time: string;
  reason: EndReason;
  message: string;
  epoch: number;
  step: number;
  seconds: number;
  best?: { epoch: number; value: number; monitor: string; metrics?: EvalMetrics };
  /** The checkpoint to resume from (interruptions), or the best one. */
  checkpoint?: string;
}

export type TrainEvent = StartEvent | StepEvent | ValidationEvent | EpochEvent | CheckpointEvent | EndEvent;

/** Hooks a run calls; any may be async. `trainer.stop()` from a hook ends the run after the current step or epoch. */
export interface Callback {
  onStart?(event: StartEvent): void | Promise<void>;
  onStepEnd?(event: StepEvent): void | Promise<void>;
  onValidationEnd?(event: ValidationEvent): void | Promise<void>;
  onEpochEnd?(event: EpochEvent): void | Promise<void>;
  onCheckpoint?(event: CheckpointEvent): void | Promise<void>;
  onEnd?(event: EndEvent): void | Promise<void>;
}

/** What prediction needs to rebuild and feed the model, stored in every checkpoint of a run. */
export interface PredictInfo {
  /** createModel's architecture name ('unet'). */
  architecture: string;
  /** createModel's options (encoderName, inChannels, classes, ...); encoderWeights is dropped. */
  modelOptions: Record<string, unknown>;
  /** How raw pixels become the [0, 1] floats the data sources give (per band). */
  scaling?: unknown;
  /** Mean and std per band applied after scaling. */
  normalization?: { mean: number[]; std: number[] };
  /** Class names, index 0 first (['background', 'building']). */
  classes: string[];
  /** Probability above which a pixel is foreground (binary models). */
  threshold: number;
  /** Which weights to predict with: the model's own, or the EMA / SWA average the checkpoint also holds. */
  weights?: 'model' | 'ema' | 'swa';
}
