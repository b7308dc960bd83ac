// `import { train } from 'segkit'`: the Trainer, evaluation, checkpoints and what a run writes.
export { Trainer, NonFiniteLossError, type TrainResult } from './trainer.js';
export { machineInfo } from './machine.js';
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
export {
  parseRunConfig,
  loadRunConfig,
  readConfigFile,
  applyOverrides,
  runConfigJsonSchema,
  RunConfigSchema,
  ConfigError,
  type RunConfig,
  type RunConfigInput,
  type Overrides,
} from './config.js';
export { buildRun, type BuildOptions, type BuiltRun } from './build.js';
export { buildScheduler } from './schedule.js';
// `train` is the namespace at the top level: the function that runs a config is `trainRun` there.
export { train as trainRun, trainFolds, resumeTarget, type TrainOptions, type FoldResult, type FoldsResult } from './run.js';
export { writeReport, renderReport, readRun, summarise, type ReportOptions, type RunSummary } from './report.js';
export { renderOverlay, overlayDataUri, OVERLAY_COLORS, type OverlayOptions } from './overlay.js';
