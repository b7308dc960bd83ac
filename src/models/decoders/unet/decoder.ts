// smp's U-Net decoder (segmentation_models_pytorch/decoders/unet/decoder.py), laid out so the
// state-dict keys are smp's: `decoder.blocks.0.conv1.0.weight`,
// `decoder.blocks.0.attention1.attention.cSE.1.weight`, `decoder.center.0.0.weight`. The building
// blocks (Conv2dReLU, InPlace-ABN, scSE attention, CenterBlock) are the shared ones in ../common.
import { torch, nn, F, type Tensor } from '../../../torch/index.js';
import type { InterpolateMode } from '../../../torch/nn/functional/sampling.js';
import { Attention, CenterBlock, Conv2dReLU, type AttentionType } from '../common/modules.js';
import type { NormSpec } from '../common/norm.js';
import { checkIntList } from '../../../validate.js';

// The Unet squeezes a stage narrower than scSE's reduction (16) to one channel rather than refusing it.
const SCSE = { atLeastOneChannel: true };

/** One U-Net decoder stage: upsample to the skip's size, concatenate it, two conv-norm-ReLUs. */
export class UnetDecoderBlock extends nn.Module {
  readonly conv1: Conv2dReLU;
  readonly attention1: Attention;
  readonly conv2: Conv2dReLU;
  readonly attention2: Attention;

  constructor(
    inChannels: number,
    skipChannels: number,
    outChannels: number,
    readonly options: { useNorm?: NormSpec; attentionType?: AttentionType; interpolationMode?: InterpolateMode } = {},
  ) {
    super();
    const norm = { padding: 1, useNorm: options.useNorm };
    const attention = options.attentionType ?? null;
    this.conv1 = this.registerModule('conv1', new Conv2dReLU(inChannels + skipChannels, outChannels, 3, norm));
    // Registered even for the last block, which has no skip and never calls it: smp does the same, so the keys match.
    this.attention1 = this.registerModule('attention1', new Attention(attention, inChannels + skipChannels, SCSE));
    this.conv2 = this.registerModule('conv2', new Conv2dReLU(outChannels, outChannels, 3, norm));
    this.attention2 = this.registerModule('attention2', new Attention(attention, outChannels, SCSE));
  }

  /** Upsamples x to [height, width] (the next encoder feature's size, so odd sizes line up). */
  forward(x: Tensor, height: number, width: number, skip: Tensor | null = null): Tensor {
    let y = F.interpolate(x, { size: [height, width], mode: this.options.interpolationMode ?? 'nearest' });
    if (skip) y = this.attention1.forward(torch.cat([y, skip], 1));
    y = this.conv2.forward(this.conv1.forward(y));
    return this.attention2.forward(y);
  }
}

export interface UnetDecoderOptions {
  /** The encoder's outChannels (input first). */
  encoderChannels: number[];
  /** One entry per block, deepest first. */
  decoderChannels: number[];
  /** Blocks: the encoder depth. */
  nBlocks?: number;
  useNorm?: NormSpec;
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
    checkIntList('UnetDecoder', 'decoderChannels', o.decoderChannels, { min: 1, length: nBlocks, why: 'one per encoder stage' });
    // Drop the input-resolution feature and start from the deepest one.
    const enc = o.encoderChannels.slice(1).reverse();
    const head = enc[0]!;
    const inChannels = [head, ...o.decoderChannels.slice(0, -1)];
    const skipChannels = [...enc.slice(1), 0];
    const useNorm = o.useNorm ?? { type: 'batchnorm' };
    this.center = this.registerModule('center', o.center ? new CenterBlock(head, head, useNorm) : new nn.Identity());
    const options = { useNorm, attentionType: o.attentionType ?? null, interpolationMode: o.interpolationMode ?? 'nearest' };
    this.blocks = this.registerModule(
      'blocks',
      new nn.ModuleList(o.decoderChannels.map((out, i) => new UnetDecoderBlock(inChannels[i]!, skipChannels[i]!, out, options))),
    );
  }

  /** features: the encoder's [input, stride 2, ..., deepest]. */
  forward(features: Tensor[]): Tensor {
    const sizes = features.map((f) => [f.shape[2]!, f.shape[3]!] as const).reverse();
    const deep = features.slice(1).reverse();
    const skips = deep.slice(1);
    let x = this.center.forward(deep[0]!) as Tensor;
    this.blocks.children().forEach((block, i) => {
      const [h, w] = sizes[i + 1]!;
      x = nn.chainLink(x, (t: Tensor) => (block as UnetDecoderBlock).forward(t, h, w, skips[i] ?? null), features);
    });
    return x;
  }
}
