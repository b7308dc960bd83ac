import type { InterpolateMode } from '../../../torch/nn/functional/sampling.js';
import { outOfRangeError } from '../../../validate.js';
import type { Encoder } from '../../encoders/base.js';
import { SegmentationModel } from '../../base.js';
import type { SegmentationHead } from '../../heads.js';
import type { ModelOptions, OutputFor, NoOptions } from '../../registry.js';
import { assembleSmp } from '../common/assemble.js';
import { DECODER_INTERPOLATIONS, buildEncoder, readModelOptions } from '../common/options.js';
import { FPNDecoder, type MergePolicy } from './decoder.js';

export interface FPNOptions extends ModelOptions {
  /** Channels of the feature pyramid (default 256). */
  decoderPyramidChannels?: number;
  /** Channels of the segmentation blocks (default 128; a multiple of 32 for GroupNorm). */
  decoderSegmentationChannels?: number;
  /** 'add' (default) or 'cat' (4x the segmentation channels). */
  decoderMergePolicy?: MergePolicy;
  /** Spatial dropout on the merged pyramid (default 0.2). */
  decoderDropout?: number;
  /** Top-down upsampling mode (default 'nearest'). */
  decoderInterpolation?: InterpolateMode;
  /** Final bilinear upsampling of the logits: default 4 at depth 5 (smp's), 2^(depth-3) otherwise. */
  upsampling?: number;
}

const KEYS = [
  'decoderPyramidChannels',
  'decoderSegmentationChannels',
  'decoderMergePolicy',
  'decoderDropout',
  'decoderInterpolation',
  'upsampling',
];

/**
 * FPN: Lin et al. 2017, "Feature Pyramid Networks for Object Detection" (CVPR), with the
 * semantic-segmentation head of Kirillov et al. 2019, "Panoptic Feature Pyramid Networks", as
 * smp's FPN (from the FAIR COCO 2017 stuff entry). Output stride 4, upsampled to the input.
 */
export class FPN<const O extends FPNOptions = NoOptions> extends SegmentationModel<OutputFor<O>> {
  readonly encoder: Encoder;
  readonly decoder: FPNDecoder;
  readonly segmentationHead: SegmentationHead;

  constructor(options?: O) {
    super();
    const { o, c } = readModelOptions('FPN', options, KEYS, { minDepth: 3 });
    const pyramidChannels = o.int('decoderPyramidChannels', 256);
    const segmentationChannels = o.int('decoderSegmentationChannels', 128);
    if (segmentationChannels % 32 !== 0) {
      throw outOfRangeError(o.where, 'decoderSegmentationChannels', 'a multiple of 32 (GroupNorm with 32 groups)', segmentationChannels);
    }
    const mergePolicy = o.choice<MergePolicy>('decoderMergePolicy', ['add', 'cat'], 'add');
    const dropout = o.probability('decoderDropout', 0.2);
    const interpolationMode = o.choice('decoderInterpolation', DECODER_INTERPOLATIONS, 'nearest');
    // The finest pyramid level is features[-4], at stride 2^(depth-3): 4 for the usual depth 5.
    const upsampling = o.int('upsampling', 2 ** (c.encoderDepth - 3));
    const p = assembleSmp(
      this,
      () => buildEncoder(c),
      (channels) =>
        new FPNDecoder(channels, {
          encoderDepth: c.encoderDepth,
          pyramidChannels,
          segmentationChannels,
          dropout,
          mergePolicy,
          interpolationMode,
        }),
      (decoder) => ({ inChannels: decoder.outChannels, classes: c.classes, activation: c.activation, kernelSize: 1, upsampling }),
      c.auxParams,
    );
    [this.encoder, this.decoder, this.segmentationHead] = [p.encoder, p.decoder, p.segmentationHead];
  }
}
