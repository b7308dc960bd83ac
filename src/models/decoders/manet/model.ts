// smp's MAnet (decoders/manet/model.py at commit 5006616): same options (camelCase), defaults
// and state-dict keys (`decoder.center.top_conv.weight`, `decoder.blocks.0.hl_conv.0.0.weight`).
import type { Encoder } from '../../encoders/base.js';
import { SegmentationModel } from '../../base.js';
import { SegmentationHead } from '../../heads.js';
import { registerModel, type ModelOptions } from '../../registry.js';
import type { UseNorm } from '../common/modules.js';
import { assembleSmp } from '../common/assemble.js';
import { COMMON_KEYS, buildEncoder, checkKeys, decoderChannelsOption, commonOptions, intOption, useNormOption } from '../common/options.js';
import { MAnetDecoder } from './decoder.js';

export interface MAnetOptions extends ModelOptions {
  /** One entry per decoder block, encoderDepth of them (default: the last encoderDepth of [256, 128, 64, 32, 16]). */
  decoderChannels?: number[];
  /** smp's decoder_use_norm: true/'batchnorm' (default) or false/'identity'. */
  decoderUseNorm?: UseNorm;
  /** smp's older name for decoderUseNorm. */
  decoderUseBatchnorm?: boolean;
  /** Channels of the position-wise attention's queries and keys (default 64). */
  decoderPabChannels?: number;
}

const KEYS = [...COMMON_KEYS, 'decoderChannels', 'decoderUseNorm', 'decoderUseBatchnorm', 'decoderPabChannels'];

/**
 * MA-Net: Fan et al. 2020, "MA-Net: A Multi-Scale Attention Network for Liver and Tumor
 * Segmentation" (IEEE Access), as smp: a Position-wise Attention Block on the deepest feature
 * and Multi-scale Fusion Attention Blocks in a U-Net-style decoder.
 */
export class MAnet extends SegmentationModel {
  readonly encoder: Encoder;
  readonly decoder: MAnetDecoder;
  readonly segmentationHead: SegmentationHead;

  constructor(options: MAnetOptions = {}) {
    super();
    const arch = 'MAnet';
    const o = checkKeys(arch, options, KEYS);
    const c = commonOptions(arch, o);
    const decoderChannels = decoderChannelsOption(arch, o.decoderChannels, c.encoderDepth);
    const useNorm = useNormOption(arch, o);
    const pabChannels = intOption(arch, 'decoderPabChannels', o.decoderPabChannels, 64);
    // Options are checked above; a failure while building frees what was built.
    const p = assembleSmp(this, buildEncoder(c),
      (channels) => new MAnetDecoder(channels, decoderChannels, { useNorm, pabChannels }),
      () => ({ inChannels: decoderChannels[decoderChannels.length - 1]!, classes: c.classes, activation: c.activation, kernelSize: 3 }), c.auxParams);
    [this.encoder, this.decoder, this.segmentationHead] = [p.encoder, p.decoder, p.segmentationHead];
  }
}

registerModel({
  name: 'manet',
  paper: 'Fan et al. 2020, MA-Net: A Multi-Scale Attention Network for Liver and Tumor Segmentation (IEEE Access), as smp',
  create: (options) => new MAnet(options),
});
