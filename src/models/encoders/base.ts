// The encoder contract every architecture builds on (smp's): features at strides 1, 2, 4, 8,
// 16, 32 (the first is the input itself), their channel counts, and dilation to output
// stride 16 or 8 for DeepLab and PSPNet.
import { nn, type Tensor } from '../../torch/index.js';
import { checkChoice, checkInt } from '../../validate.js';

export interface EncoderOptions {
  /** Number of stages, 1..5 (smp's encoder_depth): features at strides 1 .. 2^depth. */
  depth?: number;
  /** Input bands: 3 by default; any other count adapts the first conv the way smp does. */
  inChannels?: number;
  /** 32 (default), 16 or 8: the last stages use dilation instead of stride. */
  outputStride?: 8 | 16 | 32;
}

export abstract class Encoder extends nn.Module {
  /** Channels of each returned feature, starting with the input's: length depth + 1. */
  abstract readonly outChannels: number[];
  readonly depth: number;
  /** Total downsampling of the deepest feature (32 unless dilated). */
  outputStride = 32;

  /** Input bands: outChannels[0], overridden where the first feature is not the input (VGG's). */
  get inChannels(): number {
    return this.outChannels[0]!;
  }

  constructor(depth: number) {
    super();
    this.depth = checkInt(this.constructor.name, 'depth', depth, { min: 1, max: 5 });
  }

  /** depth + 1 feature maps: [input, stride 2, stride 4, ...]. */
  abstract override forward(x: Tensor): Tensor[];

  /**
   * Replaces the stride of the last stages by dilation, so the deepest feature is at
   * `outputStride` (16: the last stage; 8: the last two), as smp's make_dilated.
   */
  makeDilated(outputStride: 8 | 16): void {
    throw new Error(`${this.constructor.name} cannot be dilated to output stride ${outputStride}`);
  }
}

/** The check every makeDilated starts with: 16 or 8, else a RangeError naming the encoder. */
export function checkOutputStride(encoder: Encoder, outputStride: number): 8 | 16 {
  return checkChoice(`${encoder.constructor.name}.makeDilated`, 'outputStride', outputStride, [16, 8] as const);
}

/** How an encoder family is described in the registry. */
export interface EncoderSpec {
  name: string;
  /** Paper or source, one line. */
  source: string;
  create(options: Required<Pick<EncoderOptions, 'depth'>> & EncoderOptions): Encoder;
  /** Per-channel normalisation of the ImageNet weights (RGB, values in [0, 1]). */
  imagenet?: { mean: [number, number, number]; std: [number, number, number]; url?: string; fileName?: string };
  /** Output strides this encoder supports besides 32 (empty: none). */
  dilations: (8 | 16)[];
  /**
   * Maps a weights file's keys (torchvision's, timm's, the original repo's) to this encoder's.
   * Keys it returns that the encoder lacks (a classifier) are dropped. Default: unchanged.
   */
  remapWeights?(dict: Record<string, Tensor>): Record<string, Tensor>;
}
