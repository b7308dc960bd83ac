// smp's DeepLabV3 (segmentation_models_pytorch 0.5, commit 5006616): the encoder dilated to
// output stride 8 or 16, ASPP with image pooling and BatchNorm, a 3x3 conv, and a 1x1 head
// upsampled by the output stride. State-dict keys are smp's: `decoder.aspp.convs.0.0.weight`,
// `decoder.conv.weight`, `decoder.bn.*`, `segmentation_head.0.*`.
import { nn, type Tensor } from '../../../torch/index.js';
import { SegmentationModel } from '../../base.js';
import type { Encoder } from '../../encoders/base.js';
import { createEncoder } from '../../encoders/registry.js';
import { SegmentationHead, type ActivationOption, type AuxParams } from '../../heads.js';
import type { ModelOptions } from '../../registry.js';
import { ASPP } from './aspp.js';
import { assembleSmp } from '../common/assemble.js';
import { COMMON_KEYS } from '../common/options.js';
import { boolOption, checkKeys, choiceOption, intListOption, intOption, probabilityOption, upsamplingOption } from './options.js';

/** smp's DeepLabV3Decoder: ASPP, then 3x3 conv + BatchNorm + ReLU on the deepest feature. */
export class DeepLabV3Decoder extends nn.Module {
  readonly aspp: ASPP;
  readonly conv: nn.Conv2d;
  readonly bn: nn.BatchNorm2d;
  readonly relu: nn.ReLU;

  constructor(inChannels: number, outChannels: number, atrousRates: number[], options: { separable?: boolean; dropout?: number } = {}) {
    super();
    this.aspp = this.registerModule('aspp', new ASPP(inChannels, { atrousRates, outChannels, separable: options.separable, dropout: options.dropout }));
    this.conv = this.registerModule('conv', new nn.Conv2d(outChannels, outChannels, 3, { padding: 1, bias: false }));
    this.bn = this.registerModule('bn', new nn.BatchNorm2d(outChannels));
    this.relu = this.registerModule('relu', new nn.ReLU());
  }

  forward(features: Tensor[]): Tensor {
    const x = this.aspp.forward(features[features.length - 1]!);
    const y = this.conv.forward(x);
    x.dispose();
    const z = this.bn.forward(y);
    y.dispose();
    return z.relu();
  }
}

export interface DeepLabV3Options extends ModelOptions {
  /** 'resnet34' as smp (resnet50 with layout 'torchvision'). */
  encoderName?: string;
  /** 3..5 (default 5). */
  encoderDepth?: number;
  encoderWeights?: string | null;
  /** 8 (smp's default) or 16. */
  encoderOutputStride?: 8 | 16;
  /** ASPP and decoder width, 256. */
  decoderChannels?: number;
  /** The three atrous rates, (12, 24, 36) as smp and torchvision (rates for output stride 8). */
  decoderAtrousRates?: number[];
  /** Depthwise-separable atrous convs (smp's decoder_aspp_separable), false. */
  decoderAsppSeparable?: boolean;
  /** Dropout after the ASPP projection, 0.5. */
  decoderAsppDropout?: number;
  inChannels?: number;
  classes?: number;
  activation?: ActivationOption;
  /** Default: the deepest feature's stride, which is also the only value segkit accepts. */
  upsampling?: number;
  auxParams?: AuxParams | null;
  /** 'smp' (default) or 'torchvision' (torchvision's deeplabv3_resnet50 keys; see torchvision.ts). */
  layout?: 'smp' | 'torchvision';
}

const NAME = 'DeepLabV3';
export const DEEPLABV3_KEYS = [...COMMON_KEYS, 'encoderOutputStride', 'decoderChannels', 'decoderAtrousRates', 'decoderAsppSeparable',
  'decoderAsppDropout', 'upsampling', 'layout'] as const;

/** The stride of the deepest feature of an encoder built with `depth` stages. */
export function deepestStride(encoder: Encoder): number {
  return Math.min(encoder.outputStride, 2 ** encoder.depth);
}

/** Chen et al. 2017, "Rethinking Atrous Convolution for Semantic Image Segmentation" (arXiv:1706.05587), smp's layout. */
export class DeepLabV3 extends SegmentationModel {
  readonly encoder: Encoder;
  readonly decoder: DeepLabV3Decoder;
  readonly segmentationHead: SegmentationHead;

  constructor(options: DeepLabV3Options = {}) {
    super();
    checkKeys(NAME, options, DEEPLABV3_KEYS);
    if (options.layout !== undefined && options.layout !== 'smp') {
      throw new RangeError(`${NAME}: layout must be "smp" for this class (use TorchvisionDeepLabV3, or createModel('deeplabv3', { layout: 'torchvision' })), got ${JSON.stringify(options.layout)}`);
    }
    const depth = intOption(NAME, 'encoderDepth', options.encoderDepth, 5, 3, 5);
    const outputStride = choiceOption(NAME, 'encoderOutputStride', options.encoderOutputStride, 8, [8, 16] as const);
    const channels = intOption(NAME, 'decoderChannels', options.decoderChannels, 256);
    const rates = intListOption(NAME, 'decoderAtrousRates', options.decoderAtrousRates, [12, 24, 36], 3);
    const separable = boolOption(NAME, 'decoderAsppSeparable', options.decoderAsppSeparable, false);
    const dropout = probabilityOption(NAME, 'decoderAsppDropout', options.decoderAsppDropout, 0.5);
    const classes = intOption(NAME, 'classes', options.classes, 1);
    // Stage 4 is absent at depth 3; dilation keeps the deepest feature at the output stride.
    const stride = Math.min(outputStride, 2 ** depth);
    const upsampling = upsamplingOption(NAME, options.upsampling, stride, `the stride of the deepest feature for encoderDepth ${depth}, encoderOutputStride ${outputStride}`);
    const encoder = createEncoder(options.encoderName ?? 'resnet34', {
      depth, inChannels: options.inChannels, outputStride, weights: options.encoderWeights ?? null,
    });
    const p = assembleSmp(this, encoder,
      (enc) => new DeepLabV3Decoder(enc[enc.length - 1]!, channels, rates, { separable, dropout }),
      () => ({ inChannels: channels, classes, activation: options.activation, kernelSize: 1, upsampling }), options.auxParams);
    [this.encoder, this.decoder, this.segmentationHead] = [p.encoder, p.decoder, p.segmentationHead];
  }

  override get divisor(): number {
    return deepestStride(this.encoder);
  }

  /**
   * Also accepts checkpoints from smp before 0.5, whose decoder was a Sequential
   * (`decoder.0.*` = aspp, `decoder.1.*` = conv, `decoder.2.*` = bn), renamed as smp itself does.
   */
  override loadStateDict(dict: Record<string, Tensor>, options: { strict?: boolean } = {}): ReturnType<nn.Module['loadStateDict']> {
    const legacy: Record<string, string> = { 'decoder.0.': 'decoder.aspp.', 'decoder.1.': 'decoder.conv.', 'decoder.2.': 'decoder.bn.' };
    const renamed: Record<string, Tensor> = {};
    for (const [k, v] of Object.entries(dict)) {
      const prefix = Object.keys(legacy).find((p) => k.startsWith(p));
      renamed[prefix ? legacy[prefix] + k.slice(prefix.length) : k] = v;
    }
    return super.loadStateDict(renamed, options);
  }
}
