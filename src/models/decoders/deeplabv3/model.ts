// smp's DeepLabV3 (segmentation_models_pytorch 0.5, commit 5006616): the encoder dilated to
// output stride 8 or 16, ASPP with image pooling and BatchNorm, a 3x3 conv, and a 1x1 head
// upsampled by the output stride. State-dict keys are smp's: `decoder.aspp.convs.0.0.weight`,
// `decoder.conv.weight`, `decoder.bn.*`, `segmentation_head.0.*`.
import { nn, type Tensor } from '../../../torch/index.js';
import { SegmentationModel } from '../../base.js';
import type { Encoder } from '../../encoders/base.js';
import type { SegmentationHead } from '../../heads.js';
import type { NoOptions, OutputFor } from '../../registry.js';
import { ASPP } from './aspp.js';
import { assembleSmp } from '../common/assemble.js';
import { ASPP_KEYS, readASPP, type ASPPModelOptions } from '../common/families.js';
import { buildEncoder, readModelOptions, upsamplingOption, variantOption } from '../common/options.js';

/** smp's DeepLabV3Decoder: ASPP, then 3x3 conv + BatchNorm + ReLU on the deepest feature. */
export class DeepLabV3Decoder extends nn.Module {
  readonly aspp: ASPP;
  readonly conv: nn.Conv2d;
  readonly bn: nn.BatchNorm2d;
  readonly relu: nn.ReLU;

  constructor(inChannels: number, outChannels: number, atrousRates: number[], options: { separable?: boolean; dropout?: number } = {}) {
    super();
    this.aspp = this.registerModule(
      'aspp',
      new ASPP(inChannels, { atrousRates, outChannels, separable: options.separable, dropout: options.dropout }),
    );
    this.conv = this.registerModule('conv', new nn.Conv2d(outChannels, outChannels, 3, { padding: 1, bias: false }));
    this.bn = this.registerModule('bn', new nn.BatchNorm2d(outChannels));
    this.relu = this.registerModule('relu', new nn.ReLU());
  }

  forward(features: Tensor[]): Tensor {
    let x = this.aspp.forward(features[features.length - 1]!);
    for (const m of [this.conv, this.bn, this.relu]) x = nn.chainLink(x, (t: Tensor) => m.forward(t), []);
    return x;
  }
}

/** smp's DeepLabV3 options; its defaults: encoderOutputStride 8, decoderAsppSeparable false. */
export interface DeepLabV3Options extends ASPPModelOptions {
  /** 'smp' (default) or 'torchvision' (torchvision's deeplabv3_resnet50 keys; see torchvision.ts). */
  layout?: 'smp' | 'torchvision';
}

/** The stride of the deepest feature of an encoder built with `depth` stages. */
export function deepestStride(encoder: Encoder): number {
  return Math.min(encoder.outputStride, 2 ** encoder.depth);
}

/** Chen et al. 2017, "Rethinking Atrous Convolution for Semantic Image Segmentation" (arXiv:1706.05587), smp's layout. */
export class DeepLabV3<const O extends DeepLabV3Options = NoOptions> extends SegmentationModel<OutputFor<O>> {
  readonly encoder: Encoder;
  readonly decoder: DeepLabV3Decoder;
  readonly segmentationHead: SegmentationHead;

  constructor(options?: O) {
    super();
    // createModel('deeplabv3', { layout: 'torchvision' }) builds TorchvisionDeepLabV3 instead.
    variantOption(
      'DeepLabV3',
      'layout',
      options?.layout,
      ['smp'] as const,
      'smp',
      "for this class; TorchvisionDeepLabV3 or createModel('deeplabv3', { layout: 'torchvision' }) builds torchvision's",
    );
    const { o, c } = readModelOptions('DeepLabV3', options, [...ASPP_KEYS, 'layout'], { minDepth: 3 });
    const { outputStride, channels, atrousRates: rates, separable, dropout } = readASPP(o, { outputStride: 8, separable: false });
    // Stage 4 is absent at depth 3; dilation keeps the deepest feature at the output stride.
    const depth = c.encoderDepth;
    const stride = Math.min(outputStride, 2 ** depth);
    const upsampling = upsamplingOption(
      o,
      stride,
      `the stride of the deepest feature for encoderDepth ${depth}, encoderOutputStride ${outputStride}`,
    );
    const p = assembleSmp(
      this,
      () => buildEncoder(c, outputStride),
      (enc) => new DeepLabV3Decoder(enc[enc.length - 1]!, channels, rates, { separable, dropout }),
      () => ({ inChannels: channels, classes: c.classes, activation: c.activation, kernelSize: 1, upsampling }),
      c.auxParams,
    );
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
