// smp's PAN (decoders/pan/model.py at commit 5006616): same options (camelCase), defaults
// (encoderOutputStride 16: the last ResNet stage dilated) and state-dict keys.
import { F, type Tensor } from '../../../torch/index.js';
import type { Encoder } from '../../encoders/base.js';
import { SegmentationModel, type AuxOutput, type ModelOutput } from '../../base.js';
import type { SegmentationHead } from '../../heads.js';
import type { ModelOptions, OutputFor, NoOptions } from '../../registry.js';
import { assembleSmp } from '../common/assemble.js';
import { buildEncoder, readModelOptions } from '../common/options.js';
import { PANDecoder } from './decoder.js';

export interface PANOptions extends ModelOptions {
  /** 16 (default: the last stage dilated, as smp) or 32. */
  encoderOutputStride?: 16 | 32;
  /** Channels of the decoder (default 32). */
  decoderChannels?: number;
  /** Upsampling mode of the GAU blocks (default 'bilinear', align corners). */
  decoderInterpolation?: 'bilinear' | 'nearest';
  /** Final bilinear upsampling of the logits (default 4: the decoder works at stride 4). */
  upsampling?: number;
}

const KEYS = ['encoderOutputStride', 'decoderChannels', 'decoderInterpolation', 'upsampling'];

/**
 * PAN: Li et al. 2018, "Pyramid Attention Network for Semantic Segmentation" (BMVC), as smp:
 * Feature Pyramid Attention on the deepest feature and Global Attention Upsample blocks.
 *
 * Sizes: the input is padded to a multiple of the output stride (16 by default) and, because
 * the attention pyramid halves the deepest feature three times, to at least 8 times the
 * deepest stride (128 px at output stride 16); the output is cropped back to the input size.
 */
export class PAN<const O extends PANOptions = NoOptions> extends SegmentationModel<OutputFor<O>> {
  readonly encoder: Encoder;
  readonly decoder: PANDecoder;
  readonly segmentationHead: SegmentationHead;
  /** Smallest padded input side: 8 times the deepest feature's stride. */
  readonly minInputSize: number;

  constructor(options?: O) {
    super();
    const { o, c } = readModelOptions('PAN', options, KEYS, { minDepth: 3 });
    const outputStride = o.choice('encoderOutputStride', [16, 32] as const, 16);
    const decoderChannels = o.int('decoderChannels', 32);
    const interpolation = o.choice('decoderInterpolation', ['bilinear', 'nearest'] as const, 'bilinear');
    const upsampling = o.int('upsampling', 4);
    this.minInputSize = 8 * Math.min(2 ** c.encoderDepth, outputStride);
    const p = assembleSmp(
      this,
      () => buildEncoder(c, outputStride),
      (channels) => new PANDecoder(channels, c.encoderDepth, decoderChannels, interpolation),
      () => ({ inChannels: decoderChannels, classes: c.classes, activation: c.activation, kernelSize: 3, upsampling }),
      c.auxParams,
    );
    [this.encoder, this.decoder, this.segmentationHead] = [p.encoder, p.decoder, p.segmentationHead];
  }

  /** Pads small inputs (bottom and right, zeros) up to minInputSize, then crops the result back. */
  protected override forwardImpl(x: Tensor): Tensor | ModelOutput | AuxOutput {
    this.checkInput(x);
    const [h, w] = [x.shape[2]!, x.shape[3]!];
    const m = this.minInputSize;
    if (h >= m && w >= m) return super.forwardImpl(x);
    const out = super.forwardImpl(F.pad(x, [0, Math.max(0, m - w), 0, Math.max(0, m - h)])) as Tensor | ModelOutput;
    const crop = (t: Tensor) => t.narrow(2, 0, h).narrow(3, 0, w);
    return 'mask' in out ? { mask: crop(out.mask), label: out.label } : crop(out);
  }
}
