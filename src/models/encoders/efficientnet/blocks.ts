// EfficientNet's building blocks (Tan & Le, "EfficientNet: Rethinking Model Scaling for
// Convolutional Neural Networks", ICML 2019) as lukemelas/EfficientNet-PyTorch writes them:
// TF-style static "same" padding, MBConv with squeeze-and-excitation and swish, drop-connect.
import { torch, nn, F, type Tensor } from '../../../torch/index.js';
import { checkNumber } from '../../../validate.js';
import { staticSamePadding, type BlockArgs, type GlobalParams } from './params.js';

export interface StaticSameOptions {
  stride?: number;
  groups?: number;
  bias?: boolean;
  /** Input resolution the padding is computed for (the network's nominal one, not the actual input). */
  imageSize: number;
}

/**
 * Conv2dStaticSamePadding: TF's "SAME" padding fixed at construction for `imageSize`, so an
 * input of another size gets the same pixels padded as the original weights were trained with.
 * The original holds it in a ZeroPad2d child (`static_padding`) without parameters, so keeping
 * it as a field here leaves the state-dict keys unchanged.
 */
export class Conv2dStaticSamePadding extends nn.Conv2d {
  /** [left, right, top, bottom] zero padding before the conv; null once dilated (smp swaps it for Identity). */
  staticPadding: number[] | null;

  constructor(inChannels: number, outChannels: number, kernelSize: number, options: StaticSameOptions) {
    const { imageSize, ...conv } = options;
    super(inChannels, outChannels, kernelSize, conv);
    this.staticPadding = staticSamePadding(imageSize, kernelSize, this.stride[0], this.dilation[0]);
  }

  override forward(input: Tensor): Tensor {
    // The padded copy is freed with this forward's scope (a registered module's forward runs in its own).
    return super.forward(this.staticPadding === null ? input : F.pad(input, this.staticPadding));
  }
}

/**
 * Stochastic depth on the residual branch: in training each sample's branch is kept with
 * probability 1 - p and rescaled by 1 / (1 - p); in eval it is the identity.
 */
export function dropConnect(x: Tensor, p: number, training: boolean): Tensor {
  checkNumber('dropConnect', 'p', p, { min: 0, max: 1 });
  if (!training) return x;
  const keep = 1 - p;
  // floor(keep + U[0, 1)) is 1 with probability keep, as the original draws it.
  const mask = torch.rand([x.shape[0]!, 1, 1, 1], { dtype: x.dtype, device: x.device }).add(keep).floor();
  return x.div(keep).mul(mask);
}

/** Mobile inverted bottleneck: 1x1 expand, kxk depthwise, squeeze-and-excitation, 1x1 project. */
export class MBConvBlock extends nn.Module {
  readonly args: BlockArgs;
  readonly expandConv: Conv2dStaticSamePadding | null = null;
  readonly bn0: nn.BatchNorm2d | null = null;
  readonly depthwiseConv: Conv2dStaticSamePadding;
  readonly bn1: nn.BatchNorm2d;
  readonly seReduce: Conv2dStaticSamePadding;
  readonly seExpand: Conv2dStaticSamePadding;
  readonly projectConv: Conv2dStaticSamePadding;
  readonly bn2: nn.BatchNorm2d;
  readonly swish: nn.SiLU;
  /** Skip connection (and with it drop-connect) only where shapes allow, as the original. */
  readonly hasSkip: boolean;

  constructor(args: BlockArgs, g: GlobalParams) {
    super();
    this.args = args;
    const bn = (n: number): nn.BatchNorm2d => new nn.BatchNorm2d(n, { momentum: g.bnMomentum, eps: g.bnEps });
    const inp = args.inputFilters;
    const oup = inp * args.expandRatio;
    const size = args.imageSize;
    if (args.expandRatio !== 1) {
      this.expandConv = this.registerModule('_expand_conv', new Conv2dStaticSamePadding(inp, oup, 1, { bias: false, imageSize: size }));
      this.bn0 = this.registerModule('_bn0', bn(oup));
    }
    this.depthwiseConv = this.registerModule(
      '_depthwise_conv',
      new Conv2dStaticSamePadding(oup, oup, args.kernelSize, { stride: args.stride, groups: oup, bias: false, imageSize: size }),
    );
    this.bn1 = this.registerModule('_bn1', bn(oup));
    // Python's int() truncation of input_filters * se_ratio.
    const squeezed = Math.max(1, Math.trunc(inp * args.seRatio));
    this.seReduce = this.registerModule('_se_reduce', new Conv2dStaticSamePadding(oup, squeezed, 1, { imageSize: 1 }));
    this.seExpand = this.registerModule('_se_expand', new Conv2dStaticSamePadding(squeezed, oup, 1, { imageSize: 1 }));
    // 1x1 convs never pad, so the post-stride size the original passes here changes nothing.
    this.projectConv = this.registerModule(
      '_project_conv',
      new Conv2dStaticSamePadding(oup, args.outputFilters, 1, { bias: false, imageSize: size }),
    );
    this.bn2 = this.registerModule('_bn2', bn(args.outputFilters));
    this.swish = this.registerModule('_swish', new nn.SiLU());
    // The first block of a stage never has in == out, so its stride (a list in the original,
    // which never equals 1) makes no difference here.
    this.hasSkip = args.stride === 1 && args.inputFilters === args.outputFilters;
  }

  forward(inputs: Tensor, dropConnectRate = 0): Tensor {
    let x = inputs;
    if (this.expandConv && this.bn0) x = this.swish.forward(this.bn0.forward(this.expandConv.forward(x)));
    x = this.swish.forward(this.bn1.forward(this.depthwiseConv.forward(x)));
    const squeezed = this.seExpand.forward(this.swish.forward(this.seReduce.forward(F.adaptiveAvgPool2d(x, 1))));
    x = squeezed.sigmoid().mul(x);
    x = this.bn2.forward(this.projectConv.forward(x));
    if (!this.hasSkip) return x;
    if (dropConnectRate) x = dropConnect(x, dropConnectRate, this.training);
    return x.add(inputs);
  }
}
