// segkit: semantic segmentation for TypeScript over libtorch.
export { torch, Tensor, F, functional, nn, optim, tidy, keep, dispose, liveTensors, isTensor } from './torch/index.js';
export {
  saveCheckpoint,
  loadCheckpoint,
  readCheckpointInfo,
  type CheckpointParts,
  type CheckpointInfo,
  type Stateful,
} from './train/checkpoint.js';
export { Random } from './data/random.js';
export type {
  DType,
  MemoryFormat,
  TypedArray,
  FactoryOptions,
  TensorData,
  ToOptions,
  ValuesIndices,
  BuildInfo,
  MemoryStats,
} from './torch/index.js';
export * from './models/index.js';
export * as validate from './validate.js';
export * as data from './data/index.js';
export * as geo from './geo/index.js';
export * as rle from './rle.js';
export * as losses from './losses/index.js';
export * as metrics from './metrics/index.js';
export * as train from './train/index.js';
export * as infer from './infer/index.js';
export { Trainer, evaluate, loadTrained, type TrainerOptions, type TrainResult, type TrainEvent, type EvalMetrics } from './train/index.js';
