// smp's PAN (decoders/pan/model.py at commit 5006616): same options (camelCase), defaults
// (encoderOutputStride 16: the last ResNet stage dilated) and state-dict keys.
import { torch, F, type Tensor } from '../../../torch/index.js';
import type { Encoder } from '../../encoders/base.js';
import { SegmentationModel } from '../../base.js';
import { SegmentationHead } from '../../heads.js';
import { registerModel, type ModelOptions } from '../../registry.js';
import { assembleSmp } from '../common/assemble.js';
import { COMMON_KEYS, buildEncoder, checkKeys, commonOptions, intOption, oneOf } from '../common/options.js';
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

const KEYS = [...COMMON_KEYS, 'encoderOutputStride', 'decoderChannels', 'decoderInterpolation', 'upsampling'];

/**
 * PAN: Li et al. 2018, "Pyramid Attention Network for Semantic Segmentation" (BMVC), as smp:
 * Feature Pyramid Attention on the deepest feature and Global Attention Upsample blocks.
 *
 * Sizes: the input is padded to a multiple of the output stride (16 by default) and, because
 * the attention pyramid halves the deepest feature three times, to at least 8 times the
 * deepest stride (128 px at output stride 16); the output is cropped back to the input size.
 */
export class PAN extends SegmentationModel {
  readonly encoder: Encoder;
  readonly decoder: PANDecoder;
  readonly segmentationHead: SegmentationHead;
  /** Smallest padded input side: 8 times the deepest feature's stride. */
  readonly minInputSize: number;

  constructor(options: PANOptions = {}) {
    super();
    const arch = 'PAN';
    const o = checkKeys(arch, options, KEYS);
    const c = commonOptions(arch, o, { minDepth: 3 });
    const outputStride = oneOf(arch, 'encoderOutputStride', o.encoderOutputStride, [16, 32] as const, 16);
    const decoderChannels = intOption(arch, 'decoderChannels', o.decoderChannels, 32);
    const interpolation = oneOf(arch, 'decoderInterpolation', o.decoderInterpolation, ['bilinear', 'nearest'] as const, 'bilinear');
    const upsampling = intOption(arch, 'upsampling', o.upsampling, 4);
    this.minInputSize = 8 * Math.min(2 ** c.encoderDepth, outputStride);

    // Options are checked above; a failure while building frees what was built.
    const p = assembleSmp(this, buildEncoder(c, outputStride),
      (channels) => new PANDecoder(channels, c.encoderDepth, decoderChannels, interpolation),
      () => ({ inChannels: decoderChannels, classes: c.classes, activation: c.activation, kernelSize: 3, upsampling }), c.auxParams);
    [this.encoder, this.decoder, this.segmentationHead] = [p.encoder, p.decoder, p.segmentationHead];
  }

  /** Pads small inputs (bottom and right, zeros) up to minInputSize, then crops the result back. */
  override forward(x: Tensor): any {
    const s = x.shape;
    if (s.length !== 4) return super.forward(x);
    const [h, w] = [s[2]!, s[3]!];
    const m = this.minInputSize;
    if (h >= m && w >= m) return super.forward(x);
    return torch.tidy(() => {
      const out = super.forward(F.pad(x, [0, Math.max(0, m - w), 0, Math.max(0, m - h)]));
      const crop = (t: Tensor) => t.narrow(2, 0, h).narrow(3, 0, w);
      return out && typeof out === 'object' && 'mask' in out ? { mask: crop(out.mask), label: out.label } : crop(out as Tensor);
    });
  }
}

registerModel({
  name: 'pan',
  paper: 'Li et al. 2018, Pyramid Attention Network for Semantic Segmentation (BMVC), as smp',
  create: (options) => new PAN(options),
});
