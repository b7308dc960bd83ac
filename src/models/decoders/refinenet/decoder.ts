// RefineNet's decoder (Lin et al. 2017): a cascade of RefineNet blocks from the deepest ResNet
// stage to stride 4, each made of residual conv units, multi-resolution fusion and chained
// residual pooling. Details the paper leaves open follow the authors' MatConvNet code
// (guosheng/refinenet, main/gen_network_refine_group.m, gen_network_pool_block.m,
// My_net_util.m): 3x3 adaptation convs without bias, RCU = ReLU, 3x3 conv (bias), ReLU, 3x3
// conv (no bias), + input; pooling blocks = 5x5 max-pool (stride 1) then 3x3 conv (no bias).
import { nn, F, type Tensor } from '../../../torch/index.js';
import { checkIntList } from '../../../validate.js';

/** Residual Conv Unit (Lin et al. 2017, Fig. 2(b)): ReLU, 3x3 conv, ReLU, 3x3 conv, plus the input; no BatchNorm. */
export class ResidualConvUnit extends nn.Module {
  readonly conv1: nn.Conv2d;
  readonly conv2: nn.Conv2d;

  constructor(channels: number) {
    super();
    this.conv1 = this.registerModule('conv1', new nn.Conv2d(channels, channels, 3, { padding: 1, bias: true }));
    this.conv2 = this.registerModule('conv2', new nn.Conv2d(channels, channels, 3, { padding: 1, bias: false }));
  }

  forward(x: Tensor): Tensor {
    return this.conv2.forward(this.conv1.forward(x.relu()).relu_()).add(x);
  }
}

/** `n` RCUs in a row. */
export function rcuChain(channels: number, n: number): nn.Sequential {
  return new nn.Sequential(...Array.from({ length: n }, () => new ResidualConvUnit(channels)));
}

/**
 * Multi-resolution fusion (Lin et al. 2017, Fig. 2(c)): a 3x3 conv per path to the smallest
 * channel count, bilinear upsampling to the largest resolution, sum. One path passes through.
 */
export class MultiResolutionFusion extends nn.Module {
  readonly convs: nn.ModuleList | null;

  constructor(pathChannels: number[]) {
    super();
    const out = Math.min(...pathChannels);
    this.convs =
      pathChannels.length > 1
        ? this.registerModule('convs', new nn.ModuleList(pathChannels.map((c) => new nn.Conv2d(c, out, 3, { padding: 1, bias: false }))))
        : null;
  }

  forward(paths: Tensor[]): Tensor {
    if (!this.convs) return paths[0]!;
    const h = Math.max(...paths.map((p) => p.shape[2]!));
    const w = Math.max(...paths.map((p) => p.shape[3]!));
    let sum: Tensor | null = null;
    paths.forEach((p, i) => {
      let y = (this.convs!.at(i) as nn.Conv2d).forward(p);
      if (y.shape[2] !== h || y.shape[3] !== w) y = F.interpolate(y, { size: [h, w], mode: 'bilinear', alignCorners: false });
      sum = sum === null ? y : sum.add(y);
    });
    return sum!;
  }
}

/**
 * Chained residual pooling (Lin et al. 2017, Fig. 2(d)): ReLU, then a chain of pooling blocks
 * (5x5 max-pool with stride 1, 3x3 conv), each fed by the previous one and summed into the path.
 */
export class ChainedResidualPooling extends nn.Module {
  readonly pool: nn.MaxPool2d;
  readonly convs: nn.ModuleList;

  constructor(channels: number, blocks: number) {
    super();
    this.pool = this.registerModule('pool', new nn.MaxPool2d(5, { stride: 1, padding: 2 }));
    this.convs = this.registerModule(
      'convs',
      new nn.ModuleList(Array.from({ length: blocks }, () => new nn.Conv2d(channels, channels, 3, { padding: 1, bias: false }))),
    );
  }

  forward(input: Tensor): Tensor {
    let x = input.relu();
    let top = x;
    for (const conv of this.convs) {
      top = (conv as nn.Conv2d).forward(this.pool.forward(top));
      x = x.add(top);
    }
    return x;
  }
}

/**
 * One RefineNet block (Lin et al. 2017, Fig. 2(b)): the encoder feature is adapted to
 * `channels` by a 3x3 conv; each input path (the coarser block's output first, if any, then the
 * encoder feature) goes through two RCUs; multi-resolution fusion; chained residual pooling;
 * one output RCU.
 */
export class RefineNetBlock extends nn.Module {
  readonly inputConv: nn.Conv2d;
  readonly rcus: nn.ModuleList;
  readonly fusion: MultiResolutionFusion;
  readonly crp: ChainedResidualPooling;
  readonly outputRcu: ResidualConvUnit;

  constructor(encoderChannels: number, channels: number, previousChannels: number | null, crpBlocks: number) {
    super();
    this.inputConv = this.registerModule('input_conv', new nn.Conv2d(encoderChannels, channels, 3, { padding: 1, bias: false }));
    const paths = previousChannels === null ? [channels] : [previousChannels, channels];
    this.rcus = this.registerModule('rcus', new nn.ModuleList(paths.map((c) => rcuChain(c, 2))));
    this.fusion = this.registerModule('fusion', new MultiResolutionFusion(paths));
    const fused = Math.min(...paths);
    this.crp = this.registerModule('crp', new ChainedResidualPooling(fused, crpBlocks));
    this.outputRcu = this.registerModule('output_rcu', new ResidualConvUnit(fused));
  }

  /** The fused channel count (the smallest of the paths). */
  get outChannels(): number {
    return this.outputRcu.conv1.outChannels;
  }

  forward(feature: Tensor, previous: Tensor | null = null): Tensor {
    const adapted = this.inputConv.forward(feature);
    const paths = previous === null ? [adapted] : [previous, adapted];
    const refined = paths.map((p, i) => (this.rcus.at(i) as nn.Sequential).forward(p) as Tensor);
    return this.outputRcu.forward(this.crp.forward(this.fusion.forward(refined)));
  }
}

export interface RefineNetDecoderOptions {
  /** Channels per block, deepest first: [512, 256, 256, 256] in the paper's ResNet setup. */
  channels: number[];
  /** Pooling blocks in each chained residual pooling. */
  crpBlocks: number;
  /** Dropout before the classifier and on encoder features wider than 512 channels. */
  dropout: number;
}

/**
 * The multi-path refinement cascade (Lin et al. 2017, Fig. 2(a)): RefineNet-n on the deepest
 * feature down to RefineNet-1 at stride 4, then the two extra RCUs before the prediction and
 * dropout. As the authors' code, encoder features with more than 512 channels (ResNet-50/101/
 * 152's last two stages) get dropout before their block.
 */
export class RefineNetDecoder extends nn.Module {
  readonly blocks: RefineNetBlock[] = [];
  readonly outputRcus: nn.Sequential;
  readonly dropout: nn.Dropout;
  readonly encoderDropout: nn.Dropout;
  readonly outChannels: number;
  private readonly wide: boolean[];

  /** encoderChannels: the encoder's outChannels (input first); blocks use features[2..]. */
  constructor(encoderChannels: number[], o: RefineNetDecoderOptions) {
    super();
    const used = encoderChannels.slice(2).reverse();
    checkIntList('RefineNetDecoder', 'channels', o.channels, { min: 1, length: used.length, why: 'one per RefineNet block' });
    this.wide = used.map((c) => c > 512);
    this.encoderDropout = this.registerModule('encoder_dropout', new nn.Dropout({ p: o.dropout }));
    let previous: number | null = null;
    used.forEach((c, i) => {
      const block = new RefineNetBlock(c, o.channels[i]!, previous, o.crpBlocks);
      this.blocks.push(this.registerModule(`refinenet${used.length - i}`, block));
      previous = block.outChannels;
    });
    this.outChannels = previous!;
    this.outputRcus = this.registerModule('output_rcus', rcuChain(this.outChannels, 2));
    this.dropout = this.registerModule('dropout', new nn.Dropout({ p: o.dropout }));
  }

  forward(features: Tensor[]): Tensor {
    const used = features.slice(2).reverse();
    let x: Tensor | null = null;
    this.blocks.forEach((block, i) => {
      const f = this.wide[i] ? this.encoderDropout.forward(used[i]!) : used[i]!;
      x = nn.chainLink(x, (prev) => block.forward(f, prev), features);
    });
    return this.dropout.forward(this.outputRcus.forward(x!) as Tensor);
  }
}
