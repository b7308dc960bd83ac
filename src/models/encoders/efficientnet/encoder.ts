// EfficientNet-B0..B7 encoders (Tan & Le, "EfficientNet: Rethinking Model Scaling for
// Convolutional Neural Networks", ICML 2019) in lukemelas/EfficientNet-PyTorch's layout, as smp's
// `efficientnet-b*`, so its ImageNet weights and smp checkpoints load by name.
import { nn, type Tensor } from '../../../torch/index.js';
import { checkChoice } from '../../../validate.js';
import { Encoder, checkOutputStride, type EncoderSpec } from '../base.js';
import { registerEncoder } from '../registry.js';
import { dilateStage } from '../dilate.js';
import { Conv2dStaticSamePadding, MBConvBlock } from './blocks.js';
import {
  blockArgs,
  globalParams,
  outputSize,
  roundFilters,
  EFFICIENTNET_NAMES,
  SMP_SETTINGS,
  type EfficientNetName,
  type GlobalParams,
} from './params.js';

/** lukemelas' EfficientNet without `_fc`, returning smp's six features. */
export class EfficientNetEncoder extends Encoder {
  readonly variant: EfficientNetName;
  readonly outChannels: number[];
  readonly params: GlobalParams;
  readonly convStem: Conv2dStaticSamePadding;
  readonly bn0: nn.BatchNorm2d;
  readonly blockList: nn.ModuleList;
  // Kept although smp's encoder never runs them (its deepest feature is the last block's),
  // because smp's state dicts and the ImageNet files carry them.
  readonly convHead: Conv2dStaticSamePadding;
  readonly bn1: nn.BatchNorm2d;
  readonly swish: nn.SiLU;
  /** Block indices where the stride-4, -8, -16 and -32 features are taken (exclusive ends). */
  private readonly stageEnds: number[];

  constructor(name: EfficientNetName, depth = 5) {
    super(depth);
    this.variant = checkChoice('EfficientNetEncoder', 'name', name, EFFICIENTNET_NAMES);
    const settings = SMP_SETTINGS[name];
    const g = (this.params = globalParams(name));
    this.outChannels = settings.outChannels.slice(0, depth + 1);
    const bn = (n: number): nn.BatchNorm2d => new nn.BatchNorm2d(n, { momentum: g.bnMomentum, eps: g.bnEps });
    const stem = roundFilters(32, g);
    this.convStem = this.registerModule(
      '_conv_stem',
      new Conv2dStaticSamePadding(3, stem, 3, { stride: 2, bias: false, imageSize: g.imageSize }),
    );
    this.bn0 = this.registerModule('_bn0', bn(stem));
    // The whole network is built whatever the depth, as smp does, so the keys never change.
    const args = blockArgs(g);
    this.blockList = this.registerModule('_blocks', new nn.ModuleList(args.map((a) => new MBConvBlock(a, g))));
    const last = args[args.length - 1]!;
    const head = roundFilters(1280, g);
    this.convHead = this.registerModule(
      '_conv_head',
      new Conv2dStaticSamePadding(last.outputFilters, head, 1, { bias: false, imageSize: outputSize(last.imageSize, last.stride) }),
    );
    this.bn1 = this.registerModule('_bn1', bn(head));
    this.swish = this.registerModule('_swish', new nn.SiLU());
    this.stageEnds = [...settings.stageIdxs, args.length];
  }

  get blocks(): MBConvBlock[] {
    return this.blockList.children() as MBConvBlock[];
  }

  forward(x: Tensor): Tensor[] {
    const features = [x];
    if (this.depth >= 1) {
      for (const m of [this.convStem, this.bn0, this.swish]) x = nn.chainLink(x, (t) => m.forward(t), features);
      features.push(x);
    }
    const blocks = this.blocks;
    let start = 0;
    for (let s = 0; s < this.depth - 1; s++) {
      const end = this.stageEnds[s]!;
      for (let i = start; i < end; i++) {
        // Stochastic depth grows linearly with the block index, as in the original.
        x = nn.chainLink(x, (t) => blocks[i]!.forward(t, this.params.dropConnectRate * (i / blocks.length)), features);
      }
      features.push(x);
      start = end;
    }
    return features;
  }

  /** smp's stages for dilation: blocks of the stride-16 and stride-32 features. */
  private stageBlocks(stride: 16 | 32): MBConvBlock[] {
    const [, second, third] = this.stageEnds as [number, number, number, number];
    return stride === 16 ? this.blocks.slice(second, third) : this.blocks.slice(third);
  }

  override makeDilated(outputStride: 8 | 16): void {
    checkOutputStride(this, outputStride);
    const dilate = (stride: 16 | 32, rate: number): void => {
      for (const block of this.stageBlocks(stride)) {
        dilateStage(block, rate);
        // smp's replace_strides_with_dilation swaps static_padding for Identity: the
        // symmetric dilated padding alone keeps the size.
        for (const m of block.modules()) if (m instanceof Conv2dStaticSamePadding) m.staticPadding = null;
      }
    };
    if (outputStride === 16) dilate(32, 2);
    else {
      dilate(16, 2);
      dilate(32, 4);
    }
    this.outputStride = outputStride;
  }
}

for (const name of EFFICIENTNET_NAMES) {
  const file = SMP_SETTINGS[name].file;
  const spec: EncoderSpec = {
    name,
    source: 'Tan & Le 2019, lukemelas/EfficientNet-PyTorch layout',
    create: ({ depth }) => new EfficientNetEncoder(name, depth),
    imagenet: {
      mean: [0.485, 0.456, 0.406],
      std: [0.229, 0.224, 0.225],
      fileName: file,
      url: `https://github.com/lukemelas/EfficientNet-PyTorch/releases/download/1.0/${file}`,
    },
    dilations: [16, 8],
  };
  registerEncoder(spec);
}
