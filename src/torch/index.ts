// The `torch` namespace: segkit's engine, shaped like PyTorch's API in camelCase.
import './methods.js';
import * as creation from './ops/creation.js';
import * as math from './ops/math.js';
import * as inplace from './ops/inplace.js';
import * as reduce from './ops/reduce.js';
import * as shape from './ops/shape.js';
import * as conversion from './ops/conversion.js';
import * as generic from './ops/generic.js';
import * as autograd from './autograd.js';
import * as runtime from './runtime.js';
import { cpu } from './memory.js';
import * as functional from './nn/functional/index.js';
import * as nn from './nn/index.js';
import * as serialization from './serialization/index.js';
import { optim } from './optim/index.js';
import { tidy, keep, dispose, liveTensors } from './scope.js';
import { Tensor, isTensor } from './tensor.js';
import { DTYPES } from './dtype.js';

export { Tensor, isTensor, tidy, keep, dispose, liveTensors, functional, functional as F, optim, nn };
export type { DType, MemoryFormat, TypedArray } from './dtype.js';
export type { FactoryOptions, TensorData } from './ops/creation.js';
export type { ToOptions } from './ops/conversion.js';
export type { ValuesIndices, ReduceOptions } from './ops/reduce.js';
export type { BuildInfo } from './runtime.js';
export type { MemoryStats } from './memory.js';

export const torch = {
  ...creation,
  ...math,
  ...inplace,
  ...reduce,
  var: reduce.variance,
  ...shape,
  ...conversion,
  ...serialization,
  Tensor,
  isTensor,
  tidy,
  keep,
  dispose,
  liveTensors,
  noGrad: autograd.noGrad,
  enableGrad: autograd.enableGrad,
  inferenceMode: autograd.inferenceMode,
  isGradEnabled: autograd.isGradEnabled,
  isInferenceModeEnabled: autograd.isInferenceModeEnabled,
  autocast: autograd.autocast,
  isAutocastEnabled: autograd.isAutocastEnabled,
  autograd: { backward: autograd.backward },
  getNumThreads: runtime.getNumThreads,
  setNumThreads: runtime.setNumThreads,
  manualSeed: runtime.manualSeed,
  setAllocatorCache: runtime.setAllocatorCache,
  getRngState: runtime.getRngState,
  setRngState: runtime.setRngState,
  cpu,
  cuda: runtime.cuda,
  backends: runtime.backends,
  buildInfo: runtime.buildInfo,
  ops: { call: generic.call, schemas: generic.schemas },
  nn,
  optim,
  dtypes: DTYPES,
};

export default torch;
