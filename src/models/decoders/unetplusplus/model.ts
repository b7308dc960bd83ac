import type { Encoder } from '../../encoders/base.js';
import { SegmentationModel } from '../../base.js';
import type { SegmentationHead } from '../../heads.js';
import type { NoOptions, OutputFor } from '../../registry.js';
import { assembleSmp } from '../common/assemble.js';
import { UNET_DECODER_KEYS, readUNetDecoder, type UNetDecoderOptions } from '../common/families.js';
import { buildEncoder, readModelOptions } from '../common/options.js';
import { UnetPlusPlusDecoder } from './decoder.js';

export type UnetPlusPlusOptions = UNetDecoderOptions;

/**
 * UNet++: Zhou et al. 2018, "UNet++: A Nested U-Net Architecture for Medical Image
 * Segmentation" (DLMIA), as smp: nested dense skip pathways on any encoder, no deep supervision.
 */
export class UnetPlusPlus<const O extends UnetPlusPlusOptions = NoOptions> extends SegmentationModel<OutputFor<O>> {
  readonly encoder: Encoder;
  readonly decoder: UnetPlusPlusDecoder;
  readonly segmentationHead: SegmentationHead;

  constructor(options?: O) {
    super();
    const { o, c } = readModelOptions('UnetPlusPlus', options, UNET_DECODER_KEYS);
    const { decoderChannels, useNorm, attentionType, interpolationMode } = readUNetDecoder(o, c.encoderDepth);
    const p = assembleSmp(
      this,
      () => buildEncoder(c),
      (channels) =>
        new UnetPlusPlusDecoder(channels, decoderChannels, {
          useNorm,
          attentionType,
          interpolationMode,
          center: c.encoderName.startsWith('vgg'),
        }),
      () => ({ inChannels: decoderChannels[decoderChannels.length - 1]!, classes: c.classes, activation: c.activation, kernelSize: 3 }),
      c.auxParams,
    );
    [this.encoder, this.decoder, this.segmentationHead] = [p.encoder, p.decoder, p.segmentationHead];
  }
}
