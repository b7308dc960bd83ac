// smp's FPN (decoders/fpn/model.py at commit 5006616): same options (camelCase), defaults and
// state-dict keys (`decoder.p5.weight`, `decoder.seg_blocks.0.block.0.block.0.weight`,
// `segmentation_head.0.weight`).
import type { Encoder } from '../../encoders/base.js';
import { SegmentationModel } from '../../base.js';
import { SegmentationHead } from '../../heads.js';
import { registerModel, type ModelOptions } from '../../registry.js';
import { assembleSmp } from '../common/assemble.js';
import { COMMON_KEYS, buildEncoder, checkKeys, commonOptions, intOption, oneOf, probabilityOption } from '../common/options.js';
import { FPNDecoder, type FPNInterpolation, type MergePolicy } from './decoder.js';

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
  decoderInterpolation?: FPNInterpolation;
  /** Final bilinear upsampling of the logits: default 4 at depth 5 (smp's), 2^(depth-3) otherwise. */
  upsampling?: number;
}

const KEYS = [...COMMON_KEYS, 'decoderPyramidChannels', 'decoderSegmentationChannels', 'decoderMergePolicy', 'decoderDropout',
  'decoderInterpolation', 'upsampling'];

/**
 * FPN: Lin et al. 2017, "Feature Pyramid Networks for Object Detection" (CVPR), with the
 * semantic-segmentation head of Kirillov et al. 2019, "Panoptic Feature Pyramid Networks", as
 * smp's FPN (from the FAIR COCO 2017 stuff entry). Output stride 4, upsampled to the input.
 */
export class FPN extends SegmentationModel {
  readonly encoder: Encoder;
  readonly decoder: FPNDecoder;
  readonly segmentationHead: SegmentationHead;

  constructor(options: FPNOptions = {}) {
    super();
    const arch = 'FPN';
    const o = checkKeys(arch, options, KEYS);
    const c = commonOptions(arch, o, { minDepth: 3 });
    const pyramidChannels = intOption(arch, 'decoderPyramidChannels', o.decoderPyramidChannels, 256);
    const segmentationChannels = intOption(arch, 'decoderSegmentationChannels', o.decoderSegmentationChannels, 128);
    if (segmentationChannels % 32 !== 0) {
      throw new RangeError(`${arch}: decoderSegmentationChannels must be a multiple of 32 (GroupNorm with 32 groups), got ${segmentationChannels}`);
    }
    const mergePolicy = oneOf(arch, 'decoderMergePolicy', o.decoderMergePolicy, ['add', 'cat'] as const, 'add');
    const dropout = probabilityOption(arch, 'decoderDropout', o.decoderDropout, 0.2);
    const interpolationMode = oneOf(arch, 'decoderInterpolation', o.decoderInterpolation,
      ['nearest', 'nearest-exact', 'bilinear', 'bicubic', 'area'] as const, 'nearest');
    // The finest pyramid level is features[-4], at stride 2^(depth-3): 4 for the usual depth 5.
    const upsampling = intOption(arch, 'upsampling', o.upsampling, 2 ** (c.encoderDepth - 3));

    // Options are checked above; a failure while building frees what was built.
    const p = assembleSmp(this, buildEncoder(c),
      (channels) => new FPNDecoder(channels, {
        encoderDepth: c.encoderDepth, pyramidChannels, segmentationChannels, dropout, mergePolicy, interpolationMode,
      }),
      (decoder) => ({ inChannels: decoder.outChannels, classes: c.classes, activation: c.activation, kernelSize: 1, upsampling }), c.auxParams);
    [this.encoder, this.decoder, this.segmentationHead] = [p.encoder, p.decoder, p.segmentationHead];
  }
}

registerModel({
  name: 'fpn',
  paper: 'Lin et al. 2017, Feature Pyramid Networks for Object Detection (CVPR); semantic head of Kirillov et al. 2019 (Panoptic FPN), as smp',
  create: (options) => new FPN(options),
});
