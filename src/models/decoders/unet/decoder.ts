// smp's U-Net decoder and the building blocks it shares with smp's other decoders
// (segmentation_models_pytorch/decoders/unet/decoder.py and base/modules.py), laid out so the
// state-dict keys are smp's: `decoder.blocks.0.conv1.0.weight`,
// `decoder.blocks.0.attention1.attention.cSE.1.weight`, `decoder.center.0.0.weight`.
import { torch, nn, F, type Tensor } from '../../../torch/index.js';
import type { InterpolateMode } from '../../../torch/nn/functional/sampling.js';

/** What follows each decoder conv: BatchNorm (true), nothing (false), or InPlace-ABN ('inplace'). */
export type DecoderNorm = boolean | 'inplace';

/**
 * InPlace-ABN (Rota Bulò et al., "In-Place Activated BatchNorm for Memory-Optimized Training
 * of DNNs", CVPR 2018) as smp configures it: BatchNorm fused with a leaky ReLU of slope 0, i.e.
 * BatchNorm then ReLU. The in-place memory trick is a CUDA kernel detail; the values and the
 * state-dict keys (a BatchNorm2d's) are the same, so smp checkpoints load.
 */
export class InPlaceABN extends nn.BatchNorm2d {
  override forward(x: Tensor): Tensor {
    return super.forward(x).relu();
  }
}

/** smp's Conv2dReLU: Sequential(conv, norm, activation); the conv has a bias only without a norm. */
export class Conv2dReLU extends nn.Sequential {
  constructor(inChannels: number, outChannels: number, kernelSize: number, options: { padding?: number; stride?: number; useBatchnorm?: DecoderNorm } = {}) {
    const norm = options.useBatchnorm ?? true;
    const conv = new nn.Conv2d(inChannels, outChannels, kernelSize, { padding: options.padding ?? 0, stride: options.stride ?? 1, bias: norm === false });
    // InPlace-ABN applies the activation itself, so smp puts an Identity in the ReLU's slot.
    const bn = norm === 'inplace' ? new InPlaceABN(outChannels) : norm ? new nn.BatchNorm2d(outChannels) : new nn.Identity();
    super(conv, bn, norm === 'inplace' ? new nn.Identity() : new nn.ReLU());
  }
}

/**
 * Concurrent spatial and channel squeeze & excitation (Roy et al., "Concurrent Spatial and
 * Channel Squeeze & Excitation in Fully Convolutional Networks", MICCAI 2018): x * cSE(x) + x * sSE(x).
 */
export class SCSEModule extends nn.Module {
  readonly cSE: nn.Sequential;
  readonly sSE: nn.Sequential;

  constructor(inChannels: number, reduction = 16) {
    super();
    // smp's integer division; at least one channel so narrow stages (16 channels / 16) still work.
    const squeezed = Math.max(1, Math.floor(inChannels / reduction));
    this.cSE = this.registerModule('cSE', new nn.Sequential(
      new nn.AdaptiveAvgPool2d(1),
      new nn.Conv2d(inChannels, squeezed, 1),
      new nn.ReLU(),
      new nn.Conv2d(squeezed, inChannels, 1),
      new nn.Sigmoid(),
    ));
    this.sSE = this.registerModule('sSE', new nn.Sequential(new nn.Conv2d(inChannels, 1, 1), new nn.Sigmoid()));
  }

  forward(x: Tensor): Tensor {
    return torch.tidy(() => x.mul(this.cSE.forward(x)).add(x.mul(this.sSE.forward(x))));
  }
}

export type AttentionType = 'scse' | null;

/** smp's Attention wrapper: Identity or SCSE under the child name `attention`. */
export class Attention extends nn.Module {
  readonly attention: nn.Module;

  constructor(name: AttentionType, inChannels: number) {
    super();
    if (name !== null && name !== 'scse') {
      throw new TypeError(`decoderAttentionType must be null or 'scse', got ${JSON.stringify(name)}`);
    }
    this.attention = this.registerModule('attention', name === 'scse' ? new SCSEModule(inChannels) : new nn.Identity());
  }

  forward(x: Tensor): Tensor {
    return this.attention.forward(x) as Tensor;
  }
}

/** One U-Net decoder stage: upsample to the skip's size, concatenate it, two conv-norm-ReLUs. */
export class UnetDecoderBlock extends nn.Module {
  readonly conv1: Conv2dReLU;
  readonly attention1: Attention;
  readonly conv2: Conv2dReLU;
  readonly attention2: Attention;

  constructor(inChannels: number, skipChannels: number, outChannels: number,
    readonly options: { useBatchnorm?: DecoderNorm; attentionType?: AttentionType; interpolationMode?: InterpolateMode } = {}) {
    super();
    const norm = { padding: 1, useBatchnorm: options.useBatchnorm ?? true };
    const attention = options.attentionType ?? null;
    this.conv1 = this.registerModule('conv1', new Conv2dReLU(inChannels + skipChannels, outChannels, 3, norm));
    // Registered even for the last block, which has no skip and never calls it: smp does the same, so the keys match.
    this.attention1 = this.registerModule('attention1', new Attention(attention, inChannels + skipChannels));
    this.conv2 = this.registerModule('conv2', new Conv2dReLU(outChannels, outChannels, 3, norm));
    this.attention2 = this.registerModule('attention2', new Attention(attention, outChannels));
  }

  /** Upsamples x to [height, width] (the next encoder feature's size, so odd sizes line up). */
  forward(x: Tensor, height: number, width: number, skip: Tensor | null = null): Tensor {
    return torch.tidy(() => {
      let y = F.interpolate(x, { size: [height, width], mode: this.options.interpolationMode ?? 'nearest' });
      if (skip) y = this.attention1.forward(torch.cat([y, skip], 1));
      y = this.conv2.forward(this.conv1.forward(y));
      return this.attention2.forward(y);
    });
  }
}

/** Two conv-norm-ReLUs on the deepest feature; smp adds it for VGG encoders only. */
export class CenterBlock extends nn.Sequential {
  constructor(inChannels: number, outChannels: number, useBatchnorm: DecoderNorm = true) {
    super(
      new Conv2dReLU(inChannels, outChannels, 3, { padding: 1, useBatchnorm }),
      new Conv2dReLU(outChannels, outChannels, 3, { padding: 1, useBatchnorm }),
    );
  }
}

export interface UnetDecoderOptions {
  /** The encoder's outChannels (input first). */
  encoderChannels: number[];
  /** One entry per block, deepest first. */
  decoderChannels: number[];
  /** Blocks: the encoder depth. */
  nBlocks?: number;
  useBatchnorm?: DecoderNorm;
  attentionType?: AttentionType;
  center?: boolean;
  interpolationMode?: InterpolateMode;
}

/**
 * The decoder of U-Net (Ronneberger et al., "U-Net: Convolutional Networks for Biomedical
 * Image Segmentation", MICCAI 2015) in smp's encoder-agnostic form: from the deepest feature,
 * each block doubles the resolution and fuses the encoder feature of that resolution.
 */
export class UnetDecoder extends nn.Module {
  readonly center: nn.Module;
  readonly blocks: nn.ModuleList;

  constructor(o: UnetDecoderOptions) {
    super();
    const nBlocks = o.nBlocks ?? 5;
    if (nBlocks !== o.decoderChannels.length) {
      throw new RangeError(`decoderChannels: expected ${nBlocks} entries (one per encoder stage, encoderDepth=${nBlocks}), got ${o.decoderChannels.length}`);
    }
    // Drop the input-resolution feature and start from the deepest one.
    const enc = o.encoderChannels.slice(1).reverse();
    const head = enc[0]!;
    const inChannels = [head, ...o.decoderChannels.slice(0, -1)];
    const skipChannels = [...enc.slice(1), 0];
    const useBatchnorm = o.useBatchnorm ?? true;
    this.center = this.registerModule('center', o.center ? new CenterBlock(head, head, useBatchnorm) : new nn.Identity());
    const options = { useBatchnorm, attentionType: o.attentionType ?? null, interpolationMode: o.interpolationMode ?? 'nearest' };
    this.blocks = this.registerModule('blocks', new nn.ModuleList(
      o.decoderChannels.map((out, i) => new UnetDecoderBlock(inChannels[i]!, skipChannels[i]!, out, options)),
    ));
  }

  /** features: the encoder's [input, stride 2, ..., deepest]. */
  forward(features: Tensor[]): Tensor {
    return torch.tidy(() => {
      const sizes = features.map((f) => [f.shape[2]!, f.shape[3]!] as const).reverse();
      const deep = features.slice(1).reverse();
      const skips = deep.slice(1);
      let x = this.center.forward(deep[0]!) as Tensor;
      this.blocks.children().forEach((block, i) => {
        const [h, w] = sizes[i + 1]!;
        x = (block as UnetDecoderBlock).forward(x, h, w, skips[i] ?? null);
      });
      return x;
    });
  }
}
