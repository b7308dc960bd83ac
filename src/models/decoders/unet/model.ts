// smp's Unet (segmentation_models_pytorch/decoders/unet/model.py): any registered encoder, the
// U-Net decoder, a 3x3 segmentation head, and smp's optional classification head. Options are
// smp's arguments in camelCase; state-dict keys and parameter counts are smp's.
import { SegmentationModel } from '../../base.js';
import type { Encoder } from '../../encoders/base.js';
import type { SegmentationHead } from '../../heads.js';
import type { OutputFor, NoOptions } from '../../registry.js';
import { assembleSmp } from '../common/assemble.js';
import { UNET_DECODER_KEYS, readUNetDecoder, type UNetDecoderOptions } from '../common/families.js';
import { buildEncoder, readModelOptions } from '../common/options.js';
import { UnetDecoder } from './decoder.js';

export interface UnetOptions extends UNetDecoderOptions {
  /** Encoder stages, 3..5 (default 5); the decoder gets as many blocks. */
  encoderDepth?: number;
}

/**
 * U-Net (Ronneberger et al., "U-Net: Convolutional Networks for Biomedical Image Segmentation",
 * MICCAI 2015) as smp's encoder-decoder `Unet`. Inputs of any size work unpadded, as in smp
 * (its Unet sets requires_divisible_input_shape = False): each decoder block upsamples to the
 * size of the encoder feature it fuses, so a 70x45 image gives a 70x45 mask.
 */
export class Unet<const O extends UnetOptions = NoOptions> extends SegmentationModel<OutputFor<O>> {
  readonly encoder: Encoder;
  readonly decoder: UnetDecoder;
  readonly segmentationHead: SegmentationHead;

  constructor(options?: O) {
    super();
    const { o, c } = readModelOptions('Unet', options, UNET_DECODER_KEYS, { minDepth: 3 });
    const d = readUNetDecoder(o, c.encoderDepth);
    const decoderChannels = d.decoderChannels;
    const p = assembleSmp(
      this,
      () => buildEncoder(c),
      (encoderChannels) =>
        new UnetDecoder({
          ...d,
          encoderChannels,
          nBlocks: c.encoderDepth,
          // smp's rule: VGG features end in a max-pool, so they get two more convs first.
          center: c.encoderName.startsWith('vgg'),
        }),
      () => ({ inChannels: decoderChannels[decoderChannels.length - 1]!, classes: c.classes, activation: c.activation, kernelSize: 3 }),
      c.auxParams,
    );
    [this.encoder, this.decoder, this.segmentationHead] = [p.encoder, p.decoder, p.segmentationHead];
  }

  /** 1: no padding. The decoder follows the encoder's feature sizes, whatever the input size. */
  override get divisor(): number {
    return 1;
  }
}
