// smp's Linknet decoder (decoders/linknet/decoder.py at commit 5006616) with its module names:
// `blocks.0.block.0.0` (1x1 conv), `blocks.0.block.1.0` (transposed conv), `blocks.0.block.2.0`.
import { nn, type Tensor } from '../../../torch/index.js';
import { Conv2dReLU } from '../common/modules.js';
import { normLayer, type NormSpec } from '../common/norm.js';

/** 4x4 transposed convolution with stride 2 (exact 2x upsampling), norm, ReLU. */
export class TransposeX2 extends nn.Sequential {
  constructor(inChannels: number, outChannels: number, useNorm: NormSpec = { type: 'batchnorm' }) {
    const layers: nn.Module[] = [new nn.ConvTranspose2d(inChannels, outChannels, 4, { stride: 2, padding: 1 })];
    const norm = normLayer(useNorm, outChannels);
    if (!(norm instanceof nn.Identity)) layers.push(norm);
    layers.push(new nn.ReLU({ inplace: true }));
    super(...layers);
  }
}

/** LinkNet's decoder block: 1x1 conv to in/4, 2x transposed conv, 1x1 conv to out; then + skip. */
export class LinknetDecoderBlock extends nn.Module {
  readonly block: nn.Sequential;

  constructor(inChannels: number, outChannels: number, useNorm: NormSpec = { type: 'batchnorm' }) {
    super();
    const mid = Math.floor(inChannels / 4);
    this.block = this.registerModule(
      'block',
      new nn.Sequential(
        new Conv2dReLU(inChannels, mid, 1, { useNorm }),
        new TransposeX2(mid, mid, useNorm),
        new Conv2dReLU(mid, outChannels, 1, { useNorm }),
      ),
    );
  }

  forward(x: Tensor, skip: Tensor | null = null): Tensor {
    const y = this.block.forward(x) as Tensor;
    return skip ? y.add(skip) : y;
  }
}

/**
 * LinkNet decoder (Chaurasia & Culurciello 2017, "LinkNet: Exploiting Encoder Representations
 * for Efficient Semantic Segmentation"): one block per encoder stage, each upsampling 2x and
 * adding the encoder feature of that resolution (a sum, not a concatenation).
 */
export class LinknetDecoder extends nn.Module {
  readonly blocks: nn.ModuleList;

  constructor(encoderChannels: number[], options: { prefinalChannels?: number; nBlocks?: number; useNorm?: NormSpec } = {}) {
    super();
    const channels = [...encoderChannels.slice(1).reverse(), options.prefinalChannels ?? 32];
    const n = options.nBlocks ?? 5;
    const blocks: nn.Module[] = [];
    for (let i = 0; i < n; i++)
      blocks.push(new LinknetDecoderBlock(channels[i]!, channels[i + 1]!, options.useNorm ?? { type: 'batchnorm' }));
    this.blocks = this.registerModule('blocks', new nn.ModuleList(blocks));
  }

  forward(features: Tensor[]): Tensor {
    const f = features.slice(1).reverse();
    let x = f[0]!;
    const skips = f.slice(1);
    [...this.blocks].forEach((b, i) => {
      x = (b as LinknetDecoderBlock).forward(x, skips[i] ?? null);
    });
    return x;
  }
}
