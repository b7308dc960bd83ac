// smp's PSPNet (segmentation_models_pytorch 0.5, commit 5006616): a shallow encoder (depth 3,
// stride 8, no dilation), the pyramid pooling module on its last feature, a 1x1 conv + BN + ReLU
// to 512 channels, spatial dropout, and a 3x3 head upsampled by 8. Keys are smp's:
// `decoder.psp.blocks.{i}.pool.1.{0,1}` (conv, norm), `decoder.conv.{0,1}`, `segmentation_head.0`.
import { torch, nn, F, type Tensor } from '../../../torch/index.js';
import { SegmentationModel } from '../../base.js';
import type { Encoder } from '../../encoders/base.js';
import { createEncoder } from '../../encoders/registry.js';
import { SegmentationHead, type ActivationOption, type AuxParams } from '../../heads.js';
import type { ModelOptions } from '../../registry.js';
import { Conv2dReLU, checkUseNorm, type UseNorm } from '../common/modules.js';
import { assembleSmp } from '../common/assemble.js';
import { deepestStride } from '../deeplabv3/model.js';
import { COMMON_KEYS } from '../common/options.js';
import { boolOption, checkKeys, intOption, probabilityOption, upsamplingOption } from '../deeplabv3/options.js';

/** One pyramid level: adaptive average pool to size x size, 1x1 Conv2dReLU, bilinear back (corners aligned). */
export class PSPBlock extends nn.Module {
  readonly pool: nn.Sequential;

  constructor(inChannels: number, outChannels: number, readonly poolSize: number, useNorm: UseNorm) {
    super();
    // smp drops the norm at 1x1: BatchNorm on one value per channel fails with a batch of one.
    this.pool = this.registerModule('pool', new nn.Sequential(
      new nn.AdaptiveAvgPool2d([poolSize, poolSize]),
      new Conv2dReLU(inChannels, outChannels, 1, { useNorm: poolSize === 1 ? 'identity' : useNorm }),
    ));
  }

  forward(x: Tensor): Tensor {
    const [h, w] = [x.shape[2]!, x.shape[3]!];
    return torch.tidy(() => F.interpolate(this.pool.forward(x) as Tensor, { size: [h, w], mode: 'bilinear', alignCorners: true }));
  }
}

/** smp's PSPModule: the four levels (1, 2, 3, 6) at in/4 channels each, concatenated before the input. */
export class PSPModule extends nn.Module {
  readonly blocks: nn.ModuleList;

  constructor(inChannels: number, sizes: number[], useNorm: UseNorm) {
    super();
    this.blocks = this.registerModule('blocks', new nn.ModuleList(sizes.map((s) => new PSPBlock(inChannels, Math.floor(inChannels / sizes.length), s, useNorm))));
  }

  forward(x: Tensor): Tensor {
    return torch.tidy(() => torch.cat([...this.blocks.children().map((b) => b.forward(x) as Tensor), x], 1));
  }
}

/** smp's PSPDecoder: PSPModule, 1x1 Conv2dReLU to `outChannels`, Dropout2d. */
export class PSPDecoder extends nn.Module {
  readonly psp: PSPModule;
  readonly conv: Conv2dReLU;
  readonly dropout: nn.Dropout2d;

  constructor(encoderChannels: number[], options: { useNorm: UseNorm; outChannels: number; dropout: number }) {
    super();
    const c = encoderChannels[encoderChannels.length - 1]!;
    this.psp = this.registerModule('psp', new PSPModule(c, [1, 2, 3, 6], options.useNorm));
    this.conv = this.registerModule('conv', new Conv2dReLU(c * 2, options.outChannels, 1, { useNorm: options.useNorm }));
    this.dropout = this.registerModule('dropout', new nn.Dropout2d({ p: options.dropout }));
  }

  forward(features: Tensor[]): Tensor {
    return torch.tidy(() => this.dropout.forward(this.conv.forward(this.psp.forward(features[features.length - 1]!)) as Tensor));
  }
}

export interface PSPNetOptions extends ModelOptions {
  /** 'resnet34' as smp. */
  encoderName?: string;
  encoderWeights?: string | null;
  /** 3 (smp's default: features at stride 8), up to 5. */
  encoderDepth?: number;
  /** 512. */
  pspOutChannels?: number;
  /** BatchNorm in the pyramid and the 1x1 conv (smp's psp_use_batchnorm), true. */
  pspUseBatchnorm?: boolean;
  /** smp 0.5's name for the same switch: true/'batchnorm' or false/'identity'. */
  decoderUseNorm?: boolean | 'batchnorm' | 'identity';
  /** Dropout2d rate, 0.2. */
  pspDropout?: number;
  inChannels?: number;
  classes?: number;
  activation?: ActivationOption;
  /** 2^encoderDepth (8 by default); the only value segkit accepts. */
  upsampling?: number;
  auxParams?: AuxParams | null;
  /** 'smp' (this class) or 'paper' (PSPNetPaper). */
  variant?: 'smp' | 'paper';
}

const NAME = 'PSPNet';
const KEYS = [...COMMON_KEYS, 'pspOutChannels', 'pspUseBatchnorm', 'decoderUseNorm', 'pspDropout', 'upsampling'] as const;

function normOption(options: PSPNetOptions): UseNorm {
  if (options.decoderUseNorm !== undefined && options.pspUseBatchnorm !== undefined) {
    throw new TypeError(`${NAME}: give pspUseBatchnorm or decoderUseNorm (its smp 0.5 name), not both`);
  }
  if (options.decoderUseNorm !== undefined) return checkUseNorm(`${NAME}: decoderUseNorm`, options.decoderUseNorm);
  return boolOption(NAME, 'pspUseBatchnorm', options.pspUseBatchnorm, true);
}

/** Zhao et al. 2017, "Pyramid Scene Parsing Network" (CVPR), as smp's PSPNet (shallow, undilated encoder). */
export class PSPNet extends SegmentationModel {
  readonly encoder: Encoder;
  readonly decoder: PSPDecoder;
  readonly segmentationHead: SegmentationHead;

  constructor(options: PSPNetOptions = {}) {
    super();
    const { variant, ...rest } = options;
    if (variant !== undefined && variant !== 'smp') {
      throw new RangeError(`${NAME}: variant must be "smp" for this class (use PSPNetPaper, or createModel('pspnet', { variant: 'paper' })), got ${JSON.stringify(variant)}`);
    }
    checkKeys(NAME, rest, KEYS);
    const depth = intOption(NAME, 'encoderDepth', options.encoderDepth, 3, 1, 5);
    const outChannels = intOption(NAME, 'pspOutChannels', options.pspOutChannels, 512);
    const useNorm = normOption(options);
    const dropout = probabilityOption(NAME, 'pspDropout', options.pspDropout, 0.2);
    const classes = intOption(NAME, 'classes', options.classes, 1);
    const upsampling = upsamplingOption(NAME, options.upsampling, 2 ** depth, `the stride of the deepest feature for encoderDepth ${depth}`);
    const encoder = createEncoder(options.encoderName ?? 'resnet34', {
      depth, inChannels: options.inChannels, weights: options.encoderWeights ?? null,
    });
    const p = assembleSmp(this, encoder, (channels) => new PSPDecoder(channels, { useNorm, outChannels, dropout }),
      () => ({ inChannels: outChannels, classes, activation: options.activation, kernelSize: 3, upsampling }), options.auxParams);
    [this.encoder, this.decoder, this.segmentationHead] = [p.encoder, p.decoder, p.segmentationHead];
  }

  /** Only the stride of the deepest feature used (8 at depth 3) matters, not the encoder's full 32. */
  override get divisor(): number {
    return deepestStride(this.encoder);
  }
}
