// smp's FPN decoder (decoders/fpn/decoder.py at commit 5006616) with its module names:
// `p5`, `p4.skip_conv`, `seg_blocks.0.block.0.block.0` (conv), `.block.1` (GroupNorm).
import type { InterpolateMode } from '../../../torch/nn/functional/sampling.js';
import { torch, nn, F, type Tensor } from '../../../torch/index.js';
import { checkInt } from '../../../validate.js';

export type MergePolicy = 'add' | 'cat';

/** 3x3 conv (no bias), GroupNorm(32), ReLU, then an optional 2x bilinear upsampling (align corners). */
export class Conv3x3GNReLU extends nn.Module {
  readonly block: nn.Sequential;

  constructor(
    inChannels: number,
    outChannels: number,
    readonly upsample = false,
  ) {
    super();
    this.block = this.registerModule(
      'block',
      new nn.Sequential(
        new nn.Conv2d(inChannels, outChannels, 3, { stride: 1, padding: 1, bias: false }),
        new nn.GroupNorm(32, outChannels),
        new nn.ReLU({ inplace: true }),
      ),
    );
  }

  forward(x: Tensor): Tensor {
    const y = this.block.forward(x) as Tensor;
    return this.upsample ? F.interpolate(y, { scaleFactor: 2, mode: 'bilinear', alignCorners: true }) : y;
  }
}

/** Top-down pathway step: upsample the coarser level 2x and add the 1x1-projected lateral feature. */
export class FPNBlock extends nn.Module {
  readonly skipConv: nn.Conv2d;

  constructor(
    pyramidChannels: number,
    skipChannels: number,
    readonly interpolationMode: InterpolateMode = 'nearest',
  ) {
    super();
    this.skipConv = this.registerModule('skip_conv', new nn.Conv2d(skipChannels, pyramidChannels, 1));
  }

  forward(x: Tensor, skip: Tensor): Tensor {
    const up = F.interpolate(x, { scaleFactor: 2, mode: this.interpolationMode });
    return up.add(this.skipConv.forward(skip));
  }
}

/** nUpsamples Conv3x3GNReLU blocks that bring one pyramid level to stride 4 (at least one block). */
export class SegmentationBlock extends nn.Module {
  readonly block: nn.Sequential;

  constructor(inChannels: number, outChannels: number, nUpsamples = 0) {
    super();
    const blocks: nn.Module[] = [new Conv3x3GNReLU(inChannels, outChannels, nUpsamples > 0)];
    for (let i = 1; i < nUpsamples; i++) blocks.push(new Conv3x3GNReLU(outChannels, outChannels, true));
    this.block = this.registerModule('block', new nn.Sequential(...blocks));
  }

  forward(x: Tensor): Tensor {
    return this.block.forward(x) as Tensor;
  }
}

/** Sums ('add') or concatenates ('cat') the four levels. */
export class MergeBlock extends nn.Module {
  constructor(readonly policy: MergePolicy) {
    super();
  }

  forward(xs: Tensor[]): Tensor {
    if (this.policy === 'cat') return torch.cat(xs, 1);
    // smp's `sum(x)`: left to right, in place after the first add (the inputs stay as they are);
    // torch.stack would copy all four maps and, in channels_last, lose the layout.
    if (xs.length === 1) return xs[0]!.clone();
    return torch.tidy(() => xs.slice(2).reduce((acc, x) => acc.add_(x), xs[0]!.add(xs[1]!)));
  }

  override extraRepr(): string {
    return `policy=${this.policy}`;
  }
}

export interface FPNDecoderOptions {
  encoderDepth: number;
  pyramidChannels: number;
  segmentationChannels: number;
  dropout: number;
  mergePolicy: MergePolicy;
  interpolationMode: InterpolateMode;
}

/**
 * Feature Pyramid Network decoder (Lin et al. 2017, "Feature Pyramid Networks for Object
 * Detection") with Kirillov et al.'s panoptic-FPN semantic head (2019), as smp builds it:
 * lateral 1x1 convs and a top-down pathway over the four deepest features, each level brought
 * to the finest pyramid stride by conv-GN-ReLU-upsample blocks, merged, spatial dropout.
 */
export class FPNDecoder extends nn.Module {
  readonly outChannels: number;
  readonly p5: nn.Conv2d;
  readonly p4: FPNBlock;
  readonly p3: FPNBlock;
  readonly p2: FPNBlock;
  readonly segBlocks: nn.ModuleList;
  readonly merge: MergeBlock;
  readonly dropout: nn.Dropout2d;

  constructor(encoderChannels: number[], o: FPNDecoderOptions) {
    super();
    this.outChannels = o.mergePolicy === 'add' ? o.segmentationChannels : o.segmentationChannels * 4;
    checkInt('FPNDecoder', 'encoderDepth', o.encoderDepth, { min: 3, max: 5 });
    const ch = [...encoderChannels].reverse().slice(0, o.encoderDepth + 1);
    this.p5 = this.registerModule('p5', new nn.Conv2d(ch[0]!, o.pyramidChannels, 1));
    this.p4 = this.registerModule('p4', new FPNBlock(o.pyramidChannels, ch[1]!, o.interpolationMode));
    this.p3 = this.registerModule('p3', new FPNBlock(o.pyramidChannels, ch[2]!, o.interpolationMode));
    this.p2 = this.registerModule('p2', new FPNBlock(o.pyramidChannels, ch[3]!, o.interpolationMode));
    this.segBlocks = this.registerModule(
      'seg_blocks',
      new nn.ModuleList([3, 2, 1, 0].map((n) => new SegmentationBlock(o.pyramidChannels, o.segmentationChannels, n))),
    );
    this.merge = this.registerModule('merge', new MergeBlock(o.mergePolicy));
    this.dropout = this.registerModule('dropout', new nn.Dropout2d({ p: o.dropout, inplace: true }));
  }

  forward(features: Tensor[]): Tensor {
    const [c2, c3, c4, c5] = features.slice(-4) as [Tensor, Tensor, Tensor, Tensor];
    const p5 = this.p5.forward(c5);
    const p4 = this.p4.forward(p5, c4);
    const p3 = this.p3.forward(p4, c3);
    const p2 = this.p2.forward(p3, c2);
    const segs = [p5, p4, p3, p2].map((p, i) => (this.segBlocks.at(i) as SegmentationBlock).forward(p));
    return this.dropout.forward(this.merge.forward(segs));
  }
}
