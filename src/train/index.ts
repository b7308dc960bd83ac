// `import { train } from 'segkit'`: the Trainer, evaluation, checkpoints and what a run writes.
export { Trainer, NonFiniteLossError, machineInfo, type TrainResult } from './trainer.js';
export { type TrainerOptions, type TrainLoader, type Monitor, MONITORS } from './options.js';
export { evaluate, forwardEval, type EvaluateOptions, type EvaluateResult, type ScoredSample } from './evaluate.js';
export { logitsOf, lossOf, targetFor, type LossFn } from './step.js';
export { loadTrained, readPredictInfo, type TrainedModel } from './load.js';
export { RUN_FILES, readEvents } from './run-folder.js';
export * from './events.js';
export {
  saveCheckpoint,
  loadCheckpoint,
  readCheckpointInfo,
  type CheckpointParts,
  type CheckpointInfo,
  type Stateful,
} from './checkpoint.js';
