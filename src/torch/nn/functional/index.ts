// torch.nn.functional (alias F): the functional forms with options objects.
export * from './conv.js';
export * from './norm.js';
export * from './pooling.js';
export {
  interpolate,
  pad,
  gridSample,
  affineGrid,
  type InterpolateMode,
  type InterpolateOptions,
  type GridSampleMode,
  type GridSamplePaddingMode,
  type GridSampleOptions,
} from './sampling.js';
export * from './dropout.js';
export * from './loss.js';
export {
  relu,
  relu6,
  leakyRelu,
  gelu,
  silu,
  hardswish,
  hardsigmoid,
  mish,
  elu,
  softplus,
  hardtanh,
  sigmoid,
  tanh,
  softmax,
  logSoftmax,
  logsigmoid,
} from '../../ops/math.js';
export { oneHot } from '../../ops/reduce.js';
