import type { Encoder } from '../../encoders/base.js';
import { SegmentationModel } from '../../base.js';
import type { SegmentationHead } from '../../heads.js';
import type { NoOptions, OutputFor } from '../../registry.js';
import { assembleSmp } from '../common/assemble.js';
import { UNET_FAMILY_KEYS, readUNetDecoder, type UNetFamilyOptions } from '../common/families.js';
import { buildEncoder, readModelOptions } from '../common/options.js';
import { MAnetDecoder } from './decoder.js';

export interface MAnetOptions extends UNetFamilyOptions {
  /** Channels of the position-wise attention's queries and keys (default 64). */
  decoderPabChannels?: number;
}

/**
 * MA-Net: Fan et al. 2020, "MA-Net: A Multi-Scale Attention Network for Liver and Tumor
 * Segmentation" (IEEE Access), as smp: a Position-wise Attention Block on the deepest feature
 * and Multi-scale Fusion Attention Blocks in a U-Net-style decoder.
 */
export class MAnet<const O extends MAnetOptions = NoOptions> extends SegmentationModel<OutputFor<O>> {
  readonly encoder: Encoder;
  readonly decoder: MAnetDecoder;
  readonly segmentationHead: SegmentationHead;

  constructor(options?: O) {
    super();
    const { o, c } = readModelOptions('MAnet', options, [...UNET_FAMILY_KEYS, 'decoderPabChannels']);
    const { decoderChannels, useNorm } = readUNetDecoder(o, c.encoderDepth);
    const pabChannels = o.int('decoderPabChannels', 64);
    const p = assembleSmp(
      this,
      () => buildEncoder(c),
      (channels) => new MAnetDecoder(channels, decoderChannels, { useNorm, pabChannels }),
      () => ({ inChannels: decoderChannels[decoderChannels.length - 1]!, classes: c.classes, activation: c.activation, kernelSize: 3 }),
      c.auxParams,
    );
    [this.encoder, this.decoder, this.segmentationHead] = [p.encoder, p.decoder, p.segmentationHead];
  }
}
