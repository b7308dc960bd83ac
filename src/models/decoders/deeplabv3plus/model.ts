// smp's DeepLabV3Plus (segmentation_models_pytorch 0.5, commit 5006616): the DeepLab v3 encoder
// and ASPP (separable by default) plus a decoder that upsamples the ASPP output to stride 4,
// concatenates a 48-channel projection of the stride-4 feature and refines with a separable
// 3x3 conv. Keys are smp's: `decoder.aspp.0.convs.*`, `decoder.aspp.1.{0,1}` (separable conv),
// `decoder.block1.*`, `decoder.block2.*`, `segmentation_head.0.*`.
import { torch, nn, type Tensor } from '../../../torch/index.js';
import { SegmentationModel } from '../../base.js';
import type { Encoder } from '../../encoders/base.js';
import { createEncoder } from '../../encoders/registry.js';
import { SegmentationHead, UpsamplingBilinear2d, type ActivationOption, type AuxParams } from '../../heads.js';
import type { ModelOptions } from '../../registry.js';
import { ASPP, SeparableConv2d } from '../deeplabv3/aspp.js';
import { assembleSmp } from '../common/assemble.js';
import { deepestStride } from '../deeplabv3/model.js';
import { COMMON_KEYS } from '../common/options.js';
import { boolOption, checkKeys, choiceOption, intListOption, intOption, probabilityOption, upsamplingOption } from '../deeplabv3/options.js';

/** The paper's low-level projection width (Chen et al. 2018, sec. 4.1: 48 channels work best). */
const HIGHRES_CHANNELS = 48;

/** smp's DeepLabV3PlusDecoder: ASPP + separable conv on the deepest feature, fused with the stride-4 feature. */
export class DeepLabV3PlusDecoder extends nn.Module {
  readonly aspp: nn.Sequential;
  readonly up: UpsamplingBilinear2d;
  readonly block1: nn.Sequential;
  readonly block2: nn.Sequential;

  constructor(encoderChannels: number[], options: { depth: number; outChannels: number; atrousRates: number[]; outputStride: 8 | 16; separable: boolean; dropout: number }) {
    super();
    const c = options.outChannels;
    this.aspp = this.registerModule('aspp', new nn.Sequential(
      new ASPP(encoderChannels[encoderChannels.length - 1]!, { atrousRates: options.atrousRates, outChannels: c, separable: options.separable, dropout: options.dropout }),
      new SeparableConv2d(c, c, 3, { padding: 1, bias: false }),
      new nn.BatchNorm2d(c),
      new nn.ReLU(),
    ));
    // The deepest feature is at stride 16 only when stage 4 exists and is not dilated.
    this.up = this.registerModule('up', new UpsamplingBilinear2d(options.outputStride === 16 && options.depth > 3 ? 4 : 2));
    this.block1 = this.registerModule('block1', new nn.Sequential(
      new nn.Conv2d(encoderChannels[2]!, HIGHRES_CHANNELS, 1, { bias: false }),
      new nn.BatchNorm2d(HIGHRES_CHANNELS),
      new nn.ReLU(),
    ));
    this.block2 = this.registerModule('block2', new nn.Sequential(
      new SeparableConv2d(HIGHRES_CHANNELS + c, c, 3, { padding: 1, bias: false }),
      new nn.BatchNorm2d(c),
      new nn.ReLU(),
    ));
  }

  forward(features: Tensor[]): Tensor {
    return torch.tidy(() => {
      const aspp = this.up.forward(this.aspp.forward(features[features.length - 1]!) as Tensor);
      const highres = this.block1.forward(features[2]!) as Tensor;
      return this.block2.forward(torch.cat([aspp, highres], 1)) as Tensor;
    });
  }
}

export interface DeepLabV3PlusOptions extends ModelOptions {
  /** 'resnet34' as smp; any encoder that can be dilated (xception, efficientnet-b*, ...). */
  encoderName?: string;
  /** 3..5 (default 5). */
  encoderDepth?: number;
  encoderWeights?: string | null;
  /** 16 (default, the paper's training setting) or 8. */
  encoderOutputStride?: 8 | 16;
  /** 256. */
  decoderChannels?: number;
  /** (12, 24, 36) as smp. */
  decoderAtrousRates?: number[];
  /** Separable atrous convs in the ASPP, true (the paper's "DeepLabv3+ with atrous separable convolution"). */
  decoderAsppSeparable?: boolean;
  /** 0.5. */
  decoderAsppDropout?: number;
  inChannels?: number;
  classes?: number;
  activation?: ActivationOption;
  /** 4 (the decoder works at stride 4); the only value segkit accepts. */
  upsampling?: number;
  auxParams?: AuxParams | null;
}

const NAME = 'DeepLabV3Plus';
const KEYS = [...COMMON_KEYS, 'encoderOutputStride', 'decoderChannels', 'decoderAtrousRates', 'decoderAsppSeparable', 'decoderAsppDropout', 'upsampling'] as const;

/** Chen et al. 2018, "Encoder-Decoder with Atrous Separable Convolution for Semantic Image Segmentation" (ECCV), smp's layout. */
export class DeepLabV3Plus extends SegmentationModel {
  readonly encoder: Encoder;
  readonly decoder: DeepLabV3PlusDecoder;
  readonly segmentationHead: SegmentationHead;

  constructor(options: DeepLabV3PlusOptions = {}) {
    super();
    checkKeys(NAME, options, KEYS);
    const depth = intOption(NAME, 'encoderDepth', options.encoderDepth, 5, 3, 5);
    const outputStride = choiceOption(NAME, 'encoderOutputStride', options.encoderOutputStride, 16, [8, 16] as const);
    const outChannels = intOption(NAME, 'decoderChannels', options.decoderChannels, 256);
    const atrousRates = intListOption(NAME, 'decoderAtrousRates', options.decoderAtrousRates, [12, 24, 36], 3);
    const separable = boolOption(NAME, 'decoderAsppSeparable', options.decoderAsppSeparable, true);
    const dropout = probabilityOption(NAME, 'decoderAsppDropout', options.decoderAsppDropout, 0.5);
    const classes = intOption(NAME, 'classes', options.classes, 1);
    const upsampling = upsamplingOption(NAME, options.upsampling, 4, 'the decoder output is at stride 4');
    const encoder = createEncoder(options.encoderName ?? 'resnet34', {
      depth, inChannels: options.inChannels, outputStride, weights: options.encoderWeights ?? null,
    });
    const p = assembleSmp(this, encoder,
      (channels) => new DeepLabV3PlusDecoder(channels, { depth, outChannels, atrousRates, outputStride, separable, dropout }),
      () => ({ inChannels: outChannels, classes, activation: options.activation, kernelSize: 1, upsampling }), options.auxParams);
    [this.encoder, this.decoder, this.segmentationHead] = [p.encoder, p.decoder, p.segmentationHead];
  }

  /** The ASPP output, upsampled, must meet the stride-4 feature exactly: pad to the deepest stride. */
  override get divisor(): number {
    return deepestStride(this.encoder);
  }
}
