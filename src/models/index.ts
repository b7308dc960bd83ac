// The model zoo: every encoder family and architecture registers itself on import, so
// createModel, listModels and listEncoders see them all.
import './encoders/resnet.js';
import './encoders/mobilenet.js';
import './encoders/efficientnet/encoder.js';
import './encoders/xception.js';
import './encoders/vgg.js';

export * from './decoders/unet/index.js';
export * from './decoders/fpn/index.js';
export * from './decoders/linknet/index.js';
export * from './decoders/pan/index.js';
export * from './decoders/manet/index.js';
export * from './decoders/unetplusplus/index.js';
export * from './decoders/refinenet/index.js';
export * from './decoders/fcn/index.js';
export * from './decoders/segnet/index.js';
export * from './decoders/unet-original/index.js';
export * from './decoders/deeplabv1/index.js';
export * from './decoders/deeplabv3/index.js';
export * from './decoders/deeplabv3plus/index.js';
export * from './decoders/deeplabv2/index.js';
export * from './decoders/pspnet/index.js';
export * from './decoders/fcn-resnet/index.js';

export {
  createModel,
  listModels,
  getModelSpec,
  registerModel,
  type ModelOptions,
  type ModelSpec,
  type ModelFor,
  type OutputFor,
  type AuxFor,
} from './registry.js';
export { createEncoder, listEncoders, getEncoderSpec, registerEncoder } from './encoders/registry.js';
export { Encoder, type EncoderOptions, type EncoderSpec } from './encoders/base.js';
export { loadEncoderWeights, weightsDir, imagenetWeightsPath } from './encoders/weights.js';
export { SegmentationModel, type ModelOutput, type AuxOutput, type Criterion } from './base.js';
export { SegmentationHead, ClassificationHead, Activation, type ActivationOption, type AuxParams } from './heads.js';
export { VGGEncoder } from './encoders/vgg.js';
export type { UseNorm, NormSpec, NormType } from './decoders/common/norm.js';
export * from './discriminators/index.js';
