// segkit: semantic segmentation for TypeScript over libtorch.
export { torch, Tensor, F, functional, tidy, keep, dispose, liveTensors, isTensor } from './torch/index.js';
export type { DType, MemoryFormat, TypedArray, FactoryOptions, TensorData, ToOptions, ValuesIndices, BuildInfo } from './torch/index.js';
