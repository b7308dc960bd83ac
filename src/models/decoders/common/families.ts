// Options shared by more than one architecture, with their readers: the U-Net family's decoder
// (Unet, UNet++, MAnet) and the ASPP of DeepLab v3 and v3+. Defaults that differ between the
// architectures are passed in by each.
import type { InterpolateMode } from '../../../torch/nn/functional/sampling.js';
import type { OptionReader } from '../../../validate.js';
import type { ModelOptions } from '../../registry.js';
import { checkAttentionType, type AttentionType } from './modules.js';
import { useNormOption, type NormSpec, type UseNorm } from './norm.js';
import { DECODER_INTERPOLATIONS, decoderChannelsOption } from './options.js';

/** The decoder options of smp's U-Net family. */
export interface UNetFamilyOptions extends ModelOptions {
  /** Output channels of each decoder block, deepest first: one per stage. Default the first encoderDepth of [256, 128, 64, 32, 16]. */
  decoderChannels?: readonly number[];
  /** smp 0.5's decoder_use_norm: 'batchnorm' (default), 'identity', 'inplace', 'instancenorm', 'layernorm', a boolean, or { type, ...options }. */
  decoderUseNorm?: UseNorm;
  /** Deprecated: smp's older name for decoderUseNorm. */
  decoderUseBatchnorm?: UseNorm;
}

/** The U-Net family's options plus the attention and upsampling of Unet and UNet++. */
export interface UNetDecoderOptions extends UNetFamilyOptions {
  /** null (default) or 'scse'. */
  decoderAttentionType?: AttentionType;
  /** How each block upsamples: 'nearest' (default, smp's), 'bilinear', 'bicubic', 'area' or 'nearest-exact'. */
  decoderInterpolation?: InterpolateMode;
}

export const UNET_FAMILY_KEYS = ['decoderChannels', 'decoderUseNorm', 'decoderUseBatchnorm'] as const;
export const UNET_DECODER_KEYS = [...UNET_FAMILY_KEYS, 'decoderAttentionType', 'decoderInterpolation'] as const;

export interface UNetDecoderSettings {
  decoderChannels: number[];
  useNorm: NormSpec;
  attentionType: AttentionType;
  interpolationMode: InterpolateMode;
}

/** Reads UNET_DECODER_KEYS (a family member without attention or interpolation gets their defaults). */
export function readUNetDecoder(o: OptionReader<object>, encoderDepth: number): UNetDecoderSettings {
  return {
    decoderChannels: decoderChannelsOption(o, encoderDepth),
    useNorm: useNormOption(o),
    attentionType: checkAttentionType(o.where, 'decoderAttentionType', o.get('decoderAttentionType')),
    interpolationMode: o.choice('decoderInterpolation', DECODER_INTERPOLATIONS, 'nearest'),
  };
}

/** The ASPP options of smp's DeepLabV3 and DeepLabV3Plus (their defaults differ: see each class). */
export interface ASPPModelOptions extends ModelOptions {
  /** 'resnet34' as smp; any encoder that can be dilated (xception, efficientnet-b*, ...). */
  encoderName?: string;
  /** 3..5 (default 5). */
  encoderDepth?: number;
  /** 8 or 16. */
  encoderOutputStride?: 8 | 16;
  /** ASPP and decoder width, 256. */
  decoderChannels?: number;
  /** The three atrous rates, (12, 24, 36) as smp and torchvision (rates for output stride 8). */
  decoderAtrousRates?: readonly number[];
  /** Depthwise-separable atrous convs (smp's decoder_aspp_separable). */
  decoderAsppSeparable?: boolean;
  /** Dropout after the ASPP projection, 0.5. */
  decoderAsppDropout?: number;
  /** The deepest feature's stride back to the input: the only value segkit accepts, and the default. */
  upsampling?: number;
}

export const ASPP_KEYS = [
  'encoderOutputStride',
  'decoderChannels',
  'decoderAtrousRates',
  'decoderAsppSeparable',
  'decoderAsppDropout',
  'upsampling',
] as const;

export interface ASPPSettings {
  outputStride: 8 | 16;
  channels: number;
  atrousRates: number[];
  separable: boolean;
  dropout: number;
}

/** Reads ASPP_KEYS but `upsampling`, which depends on the architecture's decoder stride. */
export function readASPP(o: OptionReader<object>, defaults: { outputStride: 8 | 16; separable: boolean }): ASPPSettings {
  return {
    outputStride: o.choice('encoderOutputStride', [8, 16] as const, defaults.outputStride),
    channels: o.int('decoderChannels', 256),
    atrousRates: o.intList('decoderAtrousRates', [12, 24, 36], { min: 1, length: 3 }),
    separable: o.bool('decoderAsppSeparable', defaults.separable),
    dropout: o.probability('decoderAsppDropout', 0.5),
  };
}
