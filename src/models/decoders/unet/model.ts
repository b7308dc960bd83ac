// smp's Unet (segmentation_models_pytorch/decoders/unet/model.py): any registered encoder, the
// U-Net decoder, a 3x3 segmentation head, and smp's optional classification head. Options are
// smp's arguments in camelCase; state-dict keys and parameter counts are smp's.
import type { Tensor } from '../../../torch/index.js';
import type { InterpolateMode } from '../../../torch/nn/functional/sampling.js';
import { SegmentationModel } from '../../base.js';
import type { Encoder } from '../../encoders/base.js';
import { createEncoder } from '../../encoders/registry.js';
import { Activation, SegmentationHead, type ActivationOption, type AuxParams } from '../../heads.js';
import { registerModel, type ModelOptions } from '../../registry.js';
import type { AttentionType } from '../common/modules.js';
import { assembleSmp } from '../common/assemble.js';
import { isPositiveInt, showQuoted as show } from '../common/options.js';
import { UnetDecoder, type DecoderNorm } from './decoder.js';

export interface UnetOptions {
  /** Default 'resnet34' (smp's). */
  encoderName?: string;
  /** Encoder stages, 3..5 (default 5); the decoder gets as many blocks. */
  encoderDepth?: number;
  /** null (default: random init; smp defaults to 'imagenet'), 'imagenet' (local cache) or a file path. */
  encoderWeights?: string | null;
  /** Output channels of each decoder block, deepest first: one per stage. Default [256, 128, 64, 32, 16] cut to encoderDepth. */
  decoderChannels?: number[];
  /** BatchNorm after each decoder conv (true, default), none (false), or InPlace-ABN ('inplace'). */
  decoderUseBatchnorm?: DecoderNorm;
  /** null (default) or 'scse'. */
  decoderAttentionType?: AttentionType;
  /** How each block upsamples: 'nearest' (default, smp's), 'bilinear', 'bicubic', 'area' or 'nearest-exact'. */
  decoderInterpolation?: InterpolateMode;
  /** Input bands (default 3); other counts adapt the encoder's first conv as smp does. */
  inChannels?: number;
  /** Output maps (default 1). */
  classes?: number;
  /** Applied to the mask (default null: logits). */
  activation?: ActivationOption;
  /** Adds smp's classification head on the deepest feature; forward then returns { mask, label }. */
  auxParams?: AuxParams | null;
}

const OPTION_NAMES: readonly (keyof UnetOptions)[] = ['encoderName', 'encoderDepth', 'encoderWeights', 'decoderChannels', 'decoderUseBatchnorm',
  'decoderAttentionType', 'decoderInterpolation', 'inChannels', 'classes', 'activation', 'auxParams'];
const DEFAULT_DECODER_CHANNELS = [256, 128, 64, 32, 16];
const INTERPOLATIONS: readonly InterpolateMode[] = ['nearest', 'nearest-exact', 'bilinear', 'bicubic', 'area'];

/** Checks the options up front, so a bad one fails before any weights are allocated. */
function resolveOptions(options: UnetOptions): Required<Omit<UnetOptions, 'encoderWeights' | 'auxParams' | 'activation' | 'decoderAttentionType'>>
  & Pick<UnetOptions, 'encoderWeights' | 'auxParams' | 'activation' | 'decoderAttentionType'> {
  if (options === null || typeof options !== 'object') throw new TypeError(`Unet: options must be an object, got ${options === null ? 'null' : typeof options}`);
  for (const key of Object.keys(options)) {
    if (!OPTION_NAMES.includes(key as keyof UnetOptions)) {
      throw new TypeError(`Unet: unknown option '${key}'; expected one of ${OPTION_NAMES.join(', ')}`);
    }
  }
  const encoderName = options.encoderName ?? 'resnet34';
  if (typeof encoderName !== 'string') throw new TypeError(`Unet: encoderName must be a string, got ${show(encoderName)}`);
  const encoderDepth = options.encoderDepth ?? 5;
  if (!Number.isInteger(encoderDepth) || encoderDepth < 3 || encoderDepth > 5) {
    throw new RangeError(`Unet: encoderDepth must be an integer from 3 to 5, got ${show(encoderDepth)}`);
  }
  const weights = options.encoderWeights ?? null;
  if (weights !== null && typeof weights !== 'string') {
    throw new TypeError(`Unet: encoderWeights must be null, 'imagenet' or a file path, got ${show(weights)}`);
  }
  // smp raises when encoder_depth < 5 and decoder_channels is left at its default; cutting the
  // default to the depth is what such a caller means.
  const decoderChannels = options.decoderChannels ?? DEFAULT_DECODER_CHANNELS.slice(0, encoderDepth);
  if (!Array.isArray(decoderChannels) || !decoderChannels.every(isPositiveInt)) {
    throw new TypeError(`Unet: decoderChannels must be an array of positive integers, got ${show(decoderChannels)}`);
  }
  if (decoderChannels.length !== encoderDepth) {
    throw new RangeError(`Unet: decoderChannels must have encoderDepth=${encoderDepth} entries, got ${decoderChannels.length} (${show(decoderChannels)})`);
  }
  const decoderUseBatchnorm = options.decoderUseBatchnorm ?? true;
  if (decoderUseBatchnorm !== true && decoderUseBatchnorm !== false && decoderUseBatchnorm !== 'inplace') {
    throw new TypeError(`Unet: decoderUseBatchnorm must be true, false or 'inplace', got ${show(decoderUseBatchnorm)}`);
  }
  const decoderAttentionType = options.decoderAttentionType ?? null;
  if (decoderAttentionType !== null && decoderAttentionType !== 'scse') {
    throw new TypeError(`Unet: decoderAttentionType must be null or 'scse', got ${show(decoderAttentionType)}`);
  }
  const decoderInterpolation = options.decoderInterpolation ?? 'nearest';
  if (!INTERPOLATIONS.includes(decoderInterpolation)) {
    throw new TypeError(`Unet: decoderInterpolation must be one of ${INTERPOLATIONS.join(', ')}, got ${show(decoderInterpolation)}`);
  }
  const inChannels = options.inChannels ?? 3;
  if (!isPositiveInt(inChannels)) throw new RangeError(`Unet: inChannels must be a positive integer, got ${show(inChannels)}`);
  const classes = options.classes ?? 1;
  if (!isPositiveInt(classes)) throw new RangeError(`Unet: classes must be a positive integer, got ${show(classes)}`);
  const activation = options.activation ?? null;
  new Activation(activation); // throws on an unknown name before any weights exist
  const auxParams = options.auxParams ?? null;
  if (auxParams !== null) checkAuxParams(auxParams);
  return {
    encoderName, encoderDepth, encoderWeights: weights, decoderChannels, decoderUseBatchnorm, decoderAttentionType,
    decoderInterpolation, inChannels, classes, activation, auxParams,
  };
}

const AUX_KEYS: readonly string[] = ['classes', 'pooling', 'dropout', 'activation'];

/** smp passes aux_params as keyword arguments, so an unknown key is an error there too. */
function checkAuxParams(aux: AuxParams): void {
  if (typeof aux !== 'object' || Array.isArray(aux)) throw new TypeError(`Unet: auxParams must be null or an object, got ${show(aux)}`);
  for (const key of Object.keys(aux)) {
    if (!AUX_KEYS.includes(key)) throw new TypeError(`Unet: unknown auxParams option '${key}'; expected one of ${AUX_KEYS.join(', ')}`);
  }
  if (aux.classes !== undefined && !isPositiveInt(aux.classes)) throw new RangeError(`Unet: auxParams.classes must be a positive integer, got ${show(aux.classes)}`);
  if (aux.pooling !== undefined && aux.pooling !== 'avg' && aux.pooling !== 'max') {
    throw new TypeError(`Unet: auxParams.pooling must be 'avg' or 'max', got ${show(aux.pooling)}`);
  }
  if (aux.dropout !== undefined && !(typeof aux.dropout === 'number' && aux.dropout >= 0 && aux.dropout < 1)) {
    throw new RangeError(`Unet: auxParams.dropout must be a number in [0, 1), got ${show(aux.dropout)}`);
  }
  new Activation(aux.activation ?? null);
}

/**
 * U-Net (Ronneberger et al., "U-Net: Convolutional Networks for Biomedical Image Segmentation",
 * MICCAI 2015) as smp's encoder-decoder `Unet`. Inputs of any size work unpadded, as in smp
 * (its Unet sets requires_divisible_input_shape = False): each decoder block upsamples to the
 * size of the encoder feature it fuses, so a 70x45 image gives a 70x45 mask.
 */
export class Unet extends SegmentationModel {
  readonly encoder: Encoder;
  readonly decoder: UnetDecoder;
  readonly segmentationHead: SegmentationHead;

  constructor(options: UnetOptions = {}) {
    super();
    const o = resolveOptions(options);
    const encoder = createEncoder(o.encoderName, { depth: o.encoderDepth, inChannels: o.inChannels, weights: o.encoderWeights });
    const p = assembleSmp(this, encoder, (encoderChannels) => new UnetDecoder({
      encoderChannels,
      decoderChannels: o.decoderChannels,
      nBlocks: o.encoderDepth,
      useBatchnorm: o.decoderUseBatchnorm,
      attentionType: o.decoderAttentionType,
      // smp's rule: VGG features end in a max-pool, so they get two more convs first.
      center: o.encoderName.startsWith('vgg'),
      interpolationMode: o.decoderInterpolation,
    }), () => ({ inChannels: o.decoderChannels[o.decoderChannels.length - 1]!, classes: o.classes, activation: o.activation, kernelSize: 3 }), o.auxParams);
    [this.encoder, this.decoder, this.segmentationHead] = [p.encoder, p.decoder, p.segmentationHead];
  }

  /** 1: no padding. The decoder follows the encoder's feature sizes, whatever the input size. */
  override get divisor(): number {
    return 1;
  }

  override forward(x: Tensor): Tensor | { mask: Tensor; label: Tensor } {
    return super.forward(x);
  }
}

registerModel({
  name: 'unet',
  paper: 'Ronneberger et al. 2015, U-Net (smp encoder-decoder variant)',
  create: (options: ModelOptions) => new Unet(options as UnetOptions),
});
