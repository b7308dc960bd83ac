// smp's UNet++ decoder (decoders/unetplusplus/decoder.py at commit 5006616) with its module
// names: `blocks.x_0_0.conv1.0`, `blocks.x_1_1.attention1.attention.cSE.1`, `center.0.0`.
import type { InterpolateMode } from '../../../torch/nn/functional/sampling.js';
import { torch, nn, F, type Tensor } from '../../../torch/index.js';
import { Attention, CenterBlock, Conv2dReLU, type AttentionType } from '../common/modules.js';
import type { NormSpec } from '../common/norm.js';

interface BlockOptions {
  useNorm: NormSpec;
  attentionType: AttentionType;
  interpolationMode: InterpolateMode;
}

/** Upsample 2x, concatenate the skips (then attention), two Conv2dReLU, attention. */
export class UnetPlusPlusDecoderBlock extends nn.Module {
  readonly conv1: Conv2dReLU;
  readonly attention1: Attention;
  readonly conv2: Conv2dReLU;
  readonly attention2: Attention;
  readonly interpolationMode: InterpolateMode;

  constructor(inChannels: number, skipChannels: number, outChannels: number, o: BlockOptions) {
    super();
    this.conv1 = this.registerModule(
      'conv1',
      new Conv2dReLU(inChannels + skipChannels, outChannels, 3, { padding: 1, useNorm: o.useNorm }),
    );
    this.attention1 = this.registerModule('attention1', new Attention(o.attentionType, inChannels + skipChannels));
    this.conv2 = this.registerModule('conv2', new Conv2dReLU(outChannels, outChannels, 3, { padding: 1, useNorm: o.useNorm }));
    this.attention2 = this.registerModule('attention2', new Attention(o.attentionType, outChannels));
    this.interpolationMode = o.interpolationMode;
  }

  forward(x: Tensor, skip: Tensor | null = null): Tensor {
    let y = F.interpolate(x, { scaleFactor: 2, mode: this.interpolationMode });
    if (skip) y = this.attention1.forward(torch.cat([y, skip], 1));
    return this.attention2.forward(this.conv2.forward(this.conv1.forward(y)));
  }
}

/**
 * UNet++ decoder (Zhou et al. 2018, "UNet++: A Nested U-Net Architecture for Medical Image
 * Segmentation"): nested, densely connected skip pathways; node x_{d}_{l} takes the upsampled
 * x_{d}_{l-1} and every earlier node at its resolution plus the encoder feature.
 */
export class UnetPlusPlusDecoder extends nn.Module {
  readonly inChannels: number[];
  readonly skipChannels: number[];
  readonly outChannels: number[];
  readonly center: nn.Module;
  readonly blocks: nn.ModuleDict;
  readonly depth: number;

  constructor(encoderChannels: number[], decoderChannels: number[], o: BlockOptions & { center?: boolean }) {
    super();
    const enc = encoderChannels.slice(1).reverse();
    const head = enc[0]!;
    this.inChannels = [head, ...decoderChannels.slice(0, -1)];
    this.skipChannels = [...enc.slice(1), 0];
    this.outChannels = [...decoderChannels];
    // As in smp, the center block exists (for VGG encoders) but forward never calls it.
    this.center = this.registerModule('center', o.center ? new CenterBlock(head, head, o.useNorm) : new nn.Identity());
    const blocks: Record<string, nn.Module> = {};
    const n = this.inChannels.length;
    for (let layer = 0; layer < n - 1; layer++) {
      for (let d = 0; d <= layer; d++) {
        let inCh: number, skipCh: number, outCh: number;
        if (d === 0) {
          inCh = this.inChannels[layer]!;
          skipCh = this.skipChannels[layer]! * (layer + 1);
          outCh = this.outChannels[layer]!;
        } else {
          outCh = this.skipChannels[layer]!;
          skipCh = this.skipChannels[layer]! * (layer + 1 - d);
          inCh = this.skipChannels[layer - 1]!;
        }
        blocks[`x_${d}_${layer}`] = new UnetPlusPlusDecoderBlock(inCh, skipCh, outCh, o);
      }
    }
    blocks[`x_0_${n - 1}`] = new UnetPlusPlusDecoderBlock(this.inChannels[n - 1]!, 0, this.outChannels[n - 1]!, o);
    this.blocks = this.registerModule('blocks', new nn.ModuleDict(blocks));
    this.depth = n - 1;
  }

  private block(key: string): UnetPlusPlusDecoderBlock {
    return this.blocks.get(key) as UnetPlusPlusDecoderBlock;
  }

  forward(features: Tensor[]): Tensor {
    const f = features.slice(1).reverse();
    const dense = new Map<string, Tensor>();
    const n = this.inChannels.length;
    for (let layer = 0; layer < n - 1; layer++) {
      for (let d = 0; d < this.depth - layer; d++) {
        if (layer === 0) {
          dense.set(`x_${d}_${d}`, this.block(`x_${d}_${d}`).forward(f[d]!, f[d + 1]!));
        } else {
          const l = d + layer;
          const cats: Tensor[] = [];
          for (let idx = d + 1; idx <= l; idx++) cats.push(dense.get(`x_${idx}_${l}`)!);
          cats.push(f[l + 1]!);
          dense.set(`x_${d}_${l}`, this.block(`x_${d}_${l}`).forward(dense.get(`x_${d}_${l - 1}`)!, torch.cat(cats, 1)));
        }
      }
    }
    return this.block(`x_0_${this.depth}`).forward(dense.get(`x_0_${this.depth - 1}`)!);
  }
}
