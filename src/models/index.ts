// The model zoo: every encoder family and architecture registers itself on import, so
// createModel, listModels and listEncoders see them all.
import './encoders/resnet.js';
import './encoders/mobilenet.js';
import './encoders/efficientnet/encoder.js';
import './encoders/xception.js';
import './encoders/vgg.js';
import './decoders/unet/model.js';
import './decoders/fpn/model.js';
import './decoders/linknet/model.js';
import './decoders/pan/model.js';
import './decoders/manet/model.js';
import './decoders/unetplusplus/model.js';
import './decoders/refinenet/model.js';
import './decoders/fcn/model.js';
import './decoders/segnet/model.js';
import './decoders/unet-original/model.js';
import './decoders/deeplabv1/model.js';

export { createModel, listModels, getModelSpec, registerModel, type ModelOptions, type ModelSpec } from './registry.js';
export { createEncoder, listEncoders, getEncoderSpec, registerEncoder } from './encoders/registry.js';
export { Encoder, type EncoderOptions, type EncoderSpec } from './encoders/base.js';
export { loadEncoderWeights, weightsDir, imagenetWeightsPath } from './encoders/weights.js';
export { SegmentationModel, type ModelOutput } from './base.js';
export { SegmentationHead, ClassificationHead, Activation, type ActivationOption, type AuxParams } from './heads.js';
export { Unet, type UnetOptions } from './decoders/unet/model.js';
export { FPN, type FPNOptions } from './decoders/fpn/model.js';
export { Linknet, type LinknetOptions } from './decoders/linknet/model.js';
export { PAN, type PANOptions } from './decoders/pan/model.js';
export { MAnet, type MAnetOptions } from './decoders/manet/model.js';
export { UnetPlusPlus, type UnetPlusPlusOptions } from './decoders/unetplusplus/model.js';
export { RefineNet, type RefineNetOptions } from './decoders/refinenet/model.js';
export { VGGEncoder } from './encoders/vgg.js';
export { FCN, FCN8s, FCN16s, FCN32s } from './decoders/fcn/model.js';
export { SegNet } from './decoders/segnet/model.js';
export { UNetOriginal } from './decoders/unet-original/model.js';
export { DeepLabV1 } from './decoders/deeplabv1/model.js';
