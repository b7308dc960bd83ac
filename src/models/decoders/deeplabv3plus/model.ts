// smp's DeepLabV3Plus (segmentation_models_pytorch 0.5, commit 5006616): the DeepLab v3 encoder
// and ASPP (separable by default) plus a decoder that upsamples the ASPP output to stride 4,
// concatenates a 48-channel projection of the stride-4 feature and refines with a separable
// 3x3 conv. Keys are smp's: `decoder.aspp.0.convs.*`, `decoder.aspp.1.{0,1}` (separable conv),
// `decoder.block1.*`, `decoder.block2.*`, `segmentation_head.0.*`.
import { torch, nn, type Tensor } from '../../../torch/index.js';
import { SegmentationModel } from '../../base.js';
import type { Encoder } from '../../encoders/base.js';
import { type SegmentationHead, UpsamplingBilinear2d } from '../../heads.js';
import type { NoOptions, OutputFor } from '../../registry.js';
import { ASPP, SeparableConv2d } from '../deeplabv3/aspp.js';
import { assembleSmp } from '../common/assemble.js';
import { deepestStride } from '../deeplabv3/model.js';
import { ASPP_KEYS, readASPP, type ASPPModelOptions } from '../common/families.js';
import { buildEncoder, readModelOptions, upsamplingOption } from '../common/options.js';

/** The paper's low-level projection width (Chen et al. 2018, sec. 4.1: 48 channels work best). */
const HIGHRES_CHANNELS = 48;

/** smp's DeepLabV3PlusDecoder: ASPP + separable conv on the deepest feature, fused with the stride-4 feature. */
export class DeepLabV3PlusDecoder extends nn.Module {
  readonly aspp: nn.Sequential;
  readonly up: UpsamplingBilinear2d;
  readonly block1: nn.Sequential;
  readonly block2: nn.Sequential;

  constructor(
    encoderChannels: number[],
    options: { depth: number; outChannels: number; atrousRates: number[]; outputStride: 8 | 16; separable: boolean; dropout: number },
  ) {
    super();
    const c = options.outChannels;
    this.aspp = this.registerModule(
      'aspp',
      new nn.Sequential(
        new ASPP(encoderChannels[encoderChannels.length - 1]!, {
          atrousRates: options.atrousRates,
          outChannels: c,
          separable: options.separable,
          dropout: options.dropout,
        }),
        new SeparableConv2d(c, c, 3, { padding: 1, bias: false }),
        new nn.BatchNorm2d(c),
        new nn.ReLU(),
      ),
    );
    // The deepest feature is at stride 16 only when stage 4 exists and is not dilated.
    this.up = this.registerModule('up', new UpsamplingBilinear2d(options.outputStride === 16 && options.depth > 3 ? 4 : 2));
    this.block1 = this.registerModule(
      'block1',
      new nn.Sequential(
        new nn.Conv2d(encoderChannels[2]!, HIGHRES_CHANNELS, 1, { bias: false }),
        new nn.BatchNorm2d(HIGHRES_CHANNELS),
        new nn.ReLU(),
      ),
    );
    this.block2 = this.registerModule(
      'block2',
      new nn.Sequential(new SeparableConv2d(HIGHRES_CHANNELS + c, c, 3, { padding: 1, bias: false }), new nn.BatchNorm2d(c), new nn.ReLU()),
    );
  }

  forward(features: Tensor[]): Tensor {
    const aspp = this.up.forward(this.aspp.forward(features[features.length - 1]!) as Tensor);
    const highres = this.block1.forward(features[2]!) as Tensor;
    return this.block2.forward(torch.cat([aspp, highres], 1)) as Tensor;
  }
}

/**
 * smp's DeepLabV3Plus options; its defaults: encoderOutputStride 16 (the paper's training
 * setting), decoderAsppSeparable true (the paper's "atrous separable convolution"), upsampling 4.
 */
export type DeepLabV3PlusOptions = ASPPModelOptions;

/** Chen et al. 2018, "Encoder-Decoder with Atrous Separable Convolution for Semantic Image Segmentation" (ECCV), smp's layout. */
export class DeepLabV3Plus<const O extends DeepLabV3PlusOptions = NoOptions> extends SegmentationModel<OutputFor<O>> {
  readonly encoder: Encoder;
  readonly decoder: DeepLabV3PlusDecoder;
  readonly segmentationHead: SegmentationHead;

  constructor(options?: O) {
    super();
    const { o, c } = readModelOptions('DeepLabV3Plus', options, ASPP_KEYS, { minDepth: 3 });
    const depth = c.encoderDepth;
    const { outputStride, channels: outChannels, atrousRates, separable, dropout } = readASPP(o, { outputStride: 16, separable: true });
    const upsampling = upsamplingOption(o, 4, 'the decoder output is at stride 4');
    const p = assembleSmp(
      this,
      () => buildEncoder(c, outputStride),
      (channels) => new DeepLabV3PlusDecoder(channels, { depth, outChannels, atrousRates, outputStride, separable, dropout }),
      () => ({ inChannels: outChannels, classes: c.classes, activation: c.activation, kernelSize: 1, upsampling }),
      c.auxParams,
    );
    [this.encoder, this.decoder, this.segmentationHead] = [p.encoder, p.decoder, p.segmentationHead];
  }

  /** The ASPP output, upsampled, must meet the stride-4 feature exactly: pad to the deepest stride. */
  override get divisor(): number {
    return deepestStride(this.encoder);
  }
}
