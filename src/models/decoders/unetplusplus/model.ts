// smp's UnetPlusPlus (decoders/unetplusplus/model.py at commit 5006616): same options
// (camelCase), defaults and state-dict keys (`decoder.blocks.x_0_0.conv1.0.weight`).
import type { Encoder } from '../../encoders/base.js';
import { SegmentationModel } from '../../base.js';
import { SegmentationHead } from '../../heads.js';
import { registerModel, type ModelOptions } from '../../registry.js';
import { checkAttentionType, type AttentionType, type UseNorm } from '../common/modules.js';
import { assembleSmp } from '../common/assemble.js';
import { COMMON_KEYS, buildEncoder, checkKeys, decoderChannelsOption, commonOptions, oneOf, useNormOption } from '../common/options.js';
import { UnetPlusPlusDecoder, type UnetPlusPlusInterpolation } from './decoder.js';

export interface UnetPlusPlusOptions extends ModelOptions {
  /** One entry per decoder block, encoderDepth of them (default: the last encoderDepth of [256, 128, 64, 32, 16]). */
  decoderChannels?: number[];
  /** smp's decoder_use_norm: true/'batchnorm' (default) or false/'identity'. */
  decoderUseNorm?: UseNorm;
  /** smp's older name for decoderUseNorm. */
  decoderUseBatchnorm?: boolean;
  /** null (default) or 'scse'. */
  decoderAttentionType?: AttentionType;
  /** Upsampling mode in the decoder blocks (default 'nearest'). */
  decoderInterpolation?: UnetPlusPlusInterpolation;
}

const KEYS = [...COMMON_KEYS, 'decoderChannels', 'decoderUseNorm', 'decoderUseBatchnorm', 'decoderAttentionType', 'decoderInterpolation'];

/**
 * UNet++: Zhou et al. 2018, "UNet++: A Nested U-Net Architecture for Medical Image
 * Segmentation" (DLMIA), as smp: nested dense skip pathways on any encoder, no deep supervision.
 */
export class UnetPlusPlus extends SegmentationModel {
  readonly encoder: Encoder;
  readonly decoder: UnetPlusPlusDecoder;
  readonly segmentationHead: SegmentationHead;

  constructor(options: UnetPlusPlusOptions = {}) {
    super();
    const arch = 'UnetPlusPlus';
    const o = checkKeys(arch, options, KEYS);
    const c = commonOptions(arch, o);
    const decoderChannels = decoderChannelsOption(arch, o.decoderChannels, c.encoderDepth);
    const useNorm = useNormOption(arch, o);
    const attentionType = checkAttentionType(`${arch}: decoderAttentionType`, o.decoderAttentionType);
    const interpolationMode = oneOf(arch, 'decoderInterpolation', o.decoderInterpolation,
      ['nearest', 'nearest-exact', 'bilinear', 'bicubic', 'area'] as const, 'nearest');
    // Options are checked above; a failure while building frees what was built.
    const p = assembleSmp(this, buildEncoder(c),
      (channels) => new UnetPlusPlusDecoder(channels, decoderChannels, {
        useNorm, attentionType, interpolationMode, center: c.encoderName.startsWith('vgg'),
      }),
      () => ({ inChannels: decoderChannels[decoderChannels.length - 1]!, classes: c.classes, activation: c.activation, kernelSize: 3 }), c.auxParams);
    [this.encoder, this.decoder, this.segmentationHead] = [p.encoder, p.decoder, p.segmentationHead];
  }
}

registerModel({
  name: 'unetplusplus',
  paper: 'Zhou et al. 2018, UNet++: A Nested U-Net Architecture for Medical Image Segmentation (DLMIA), as smp',
  create: (options) => new UnetPlusPlus(options),
});
