// The model zoo: every encoder family and architecture registers itself on import, so
// createModel, listModels and listEncoders see them all.
import './encoders/resnet.js';
import './encoders/mobilenet.js';
import './encoders/efficientnet/encoder.js';
import './encoders/xception.js';
import './decoders/unet/model.js';

export { createModel, listModels, getModelSpec, registerModel, type ModelOptions, type ModelSpec } from './registry.js';
export { createEncoder, listEncoders, getEncoderSpec, registerEncoder } from './encoders/registry.js';
export { Encoder, type EncoderOptions, type EncoderSpec } from './encoders/base.js';
export { loadEncoderWeights, weightsDir, imagenetWeightsPath } from './encoders/weights.js';
export { SegmentationModel, type ModelOutput } from './base.js';
export { SegmentationHead, ClassificationHead, Activation, type ActivationOption, type AuxParams } from './heads.js';
export { Unet, type UnetOptions } from './decoders/unet/model.js';
