// smp's PSPNet (segmentation_models_pytorch 0.5, commit 5006616): a shallow encoder (depth 3,
// stride 8, no dilation), the pyramid pooling module on its last feature, a 1x1 conv + BN + ReLU
// to 512 channels, spatial dropout, and a 3x3 head upsampled by 8. Keys are smp's:
// `decoder.psp.blocks.{i}.pool.1.{0,1}` (conv, norm), `decoder.conv.{0,1}`, `segmentation_head.0`.
import { torch, nn, F, type Tensor } from '../../../torch/index.js';
import { SegmentationModel } from '../../base.js';
import type { Encoder } from '../../encoders/base.js';
import type { SegmentationHead } from '../../heads.js';
import type { ModelOptions, OutputFor, NoOptions } from '../../registry.js';
import { Conv2dReLU } from '../common/modules.js';
import { useNormOption, type NormSpec, type UseNorm } from '../common/norm.js';
import { assembleSmp } from '../common/assemble.js';
import { deepestStride } from '../deeplabv3/model.js';
import { buildEncoder, readModelOptions, upsamplingOption, variantOption } from '../common/options.js';

/** One pyramid level: adaptive average pool to size x size, 1x1 Conv2dReLU, bilinear back (corners aligned). */
export class PSPBlock extends nn.Module {
  readonly pool: nn.Sequential;

  constructor(
    inChannels: number,
    outChannels: number,
    readonly poolSize: number,
    useNorm: NormSpec,
  ) {
    super();
    // smp drops the norm at 1x1: BatchNorm on one value per channel fails with a batch of one.
    this.pool = this.registerModule(
      'pool',
      new nn.Sequential(
        new nn.AdaptiveAvgPool2d([poolSize, poolSize]),
        new Conv2dReLU(inChannels, outChannels, 1, { useNorm: poolSize === 1 ? { type: 'identity' } : useNorm }),
      ),
    );
  }

  forward(x: Tensor): Tensor {
    const [h, w] = [x.shape[2]!, x.shape[3]!];
    return F.interpolate(this.pool.forward(x) as Tensor, { size: [h, w], mode: 'bilinear', alignCorners: true });
  }
}

/** smp's PSPModule: the four levels (1, 2, 3, 6) at in/4 channels each, concatenated before the input. */
export class PSPModule extends nn.Module {
  readonly blocks: nn.ModuleList;

  constructor(inChannels: number, sizes: number[], useNorm: NormSpec) {
    super();
    this.blocks = this.registerModule(
      'blocks',
      new nn.ModuleList(sizes.map((s) => new PSPBlock(inChannels, Math.floor(inChannels / sizes.length), s, useNorm))),
    );
  }

  forward(x: Tensor): Tensor {
    return torch.cat([...this.blocks.children().map((b) => b.forward(x) as Tensor), x], 1);
  }
}

/** smp's PSPDecoder: PSPModule, 1x1 Conv2dReLU to `outChannels`, Dropout2d. */
export class PSPDecoder extends nn.Module {
  readonly psp: PSPModule;
  readonly conv: Conv2dReLU;
  readonly dropout: nn.Dropout2d;

  constructor(encoderChannels: number[], options: { useNorm: NormSpec; outChannels: number; dropout: number }) {
    super();
    const c = encoderChannels[encoderChannels.length - 1]!;
    this.psp = this.registerModule('psp', new PSPModule(c, [1, 2, 3, 6], options.useNorm));
    this.conv = this.registerModule('conv', new Conv2dReLU(c * 2, options.outChannels, 1, { useNorm: options.useNorm }));
    this.dropout = this.registerModule('dropout', new nn.Dropout2d({ p: options.dropout }));
  }

  forward(features: Tensor[]): Tensor {
    let x = this.psp.forward(features[features.length - 1]!);
    for (const m of [this.conv, this.dropout]) x = nn.chainLink(x, (t: Tensor) => m.forward(t), []);
    return x;
  }
}

export interface PSPNetOptions extends ModelOptions {
  /** 'resnet34' as smp. */
  encoderName?: string;
  /** 3 (smp's default: features at stride 8), up to 5. */
  encoderDepth?: number;
  /** 512. */
  pspOutChannels?: number;
  /** smp 0.5's decoder_use_norm for the pyramid and the 1x1 conv: 'batchnorm' (default), 'identity', 'inplace', 'instancenorm', 'layernorm', a boolean, or { type, ...options }. */
  decoderUseNorm?: UseNorm;
  /** Deprecated: smp's older name for decoderUseNorm (psp_use_batchnorm). */
  pspUseBatchnorm?: UseNorm;
  /** Dropout2d rate, 0.2. */
  pspDropout?: number;
  /** 2^encoderDepth (8 by default); the only value segkit accepts. */
  upsampling?: number;
  /** 'smp' (this class) or 'paper' (PSPNetPaper). */
  variant?: 'smp' | 'paper';
}

const KEYS = ['pspOutChannels', 'pspUseBatchnorm', 'decoderUseNorm', 'pspDropout', 'upsampling', 'variant'] as const;

/** Zhao et al. 2017, "Pyramid Scene Parsing Network" (CVPR), as smp's PSPNet (shallow, undilated encoder). */
export class PSPNet<const O extends PSPNetOptions = NoOptions> extends SegmentationModel<OutputFor<O>> {
  readonly encoder: Encoder;
  readonly decoder: PSPDecoder;
  readonly segmentationHead: SegmentationHead;

  constructor(options?: O) {
    super();
    // createModel('pspnet', { variant: 'paper' }) builds PSPNetPaper instead.
    variantOption(
      'PSPNet',
      'variant',
      options?.variant,
      ['smp'] as const,
      'smp',
      "for this class; PSPNetPaper or createModel('pspnet', { variant: 'paper' }) builds the paper's",
    );
    const { o, c } = readModelOptions('PSPNet', options, KEYS, { depth: 3 });
    const depth = c.encoderDepth;
    const outChannels = o.int('pspOutChannels', 512);
    const useNorm = useNormOption(o, 'pspUseBatchnorm');
    const dropout = o.probability('pspDropout', 0.2);
    const upsampling = upsamplingOption(o, 2 ** depth, `the stride of the deepest feature for encoderDepth ${depth}`);
    const p = assembleSmp(
      this,
      () => buildEncoder(c),
      (channels) => new PSPDecoder(channels, { useNorm, outChannels, dropout }),
      () => ({ inChannels: outChannels, classes: c.classes, activation: c.activation, kernelSize: 3, upsampling }),
      c.auxParams,
    );
    [this.encoder, this.decoder, this.segmentationHead] = [p.encoder, p.decoder, p.segmentationHead];
  }

  /** Only the stride of the deepest feature used (8 at depth 3) matters, not the encoder's full 32. */
  override get divisor(): number {
    return deepestStride(this.encoder);
  }
}
