// torch.nn: the Module base, containers, layers, init and functional, with PyTorch's names.
import { clipGradNorm_ } from '../optim/clip.js';
import * as initFunctions from './init.js';

export { Module, type StateDict, type LoadResult } from './module.js';
export { Sequential, ModuleList, ModuleDict, chainLink } from './containers.js';
export { Conv2d, ConvTranspose2d, type Conv2dOptions, type ConvTranspose2dOptions, type PaddingMode } from './layers/conv.js';
export { Linear, Identity, Flatten, type LinearOptions } from './layers/linear.js';
export { BatchNorm2d, GroupNorm, type BatchNorm2dOptions, type GroupNormOptions } from './layers/normalization.js';
export { InstanceNorm2d, LayerNorm, type InstanceNorm2dOptions, type LayerNormOptions } from './layers/sample-norm.js';
export { ReLU, ReLU6, LeakyReLU, Sigmoid, Tanh, GELU, SiLU, Hardswish, Softmax2d } from './layers/activation.js';
export { MaxPool2d, MaxUnpool2d, AvgPool2d, AdaptiveAvgPool2d, type MaxPool2dOptions, type AvgPool2dOptions } from './layers/pooling.js';
export { Upsample, type UpsampleOptions } from './layers/upsampling.js';
export { Dropout, Dropout2d, type DropoutOptions } from './layers/dropout.js';
export type { LayerFactoryOptions } from './layers/common.js';
export type { KaimingOptions, Nonlinearity, FanMode } from './init.js';
export * as functional from './functional/index.js';
export { foldBatchNorms, type FoldResult } from './fuse.js';

// erf is exported from init.ts for its tests only; nn.init is PyTorch's list.
const { erf: _erf, ...initPublic } = initFunctions;
/** torch.nn.init: in-place initialisers that reproduce PyTorch's values for the same seed. */
export const init = initPublic;

/** torch.nn.utils. */
export const utils = {
  clipGradNorm_,
};
