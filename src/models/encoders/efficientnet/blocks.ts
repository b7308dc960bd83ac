// EfficientNet's building blocks (Tan & Le, "EfficientNet: Rethinking Model Scaling for
// Convolutional Neural Networks", ICML 2019) as lukemelas/EfficientNet-PyTorch writes them:
// TF-style static "same" padding, MBConv with squeeze-and-excitation and swish, drop-connect.
import { torch, nn, F, type Tensor } from '../../../torch/index.js';
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
    if (this.staticPadding === null) return super.forward(input);
    const padded = F.pad(input, this.staticPadding);
    try {
      return super.forward(padded);
    } finally {
      padded.dispose();
    }
  }
}

/**
 * Stochastic depth on the residual branch: in training each sample's branch is kept with
 * probability 1 - p and rescaled by 1 / (1 - p); in eval it is the identity.
 */
export function dropConnect(x: Tensor, p: number, training: boolean): Tensor {
  if (!(p >= 0 && p <= 1)) throw new RangeError(`dropConnect: p must be in [0, 1], got ${p}`);
  if (!training) return x;
  const keep = 1 - p;
  return torch.tidy(() => {
    // floor(keep + U[0, 1)) is 1 with probability keep, as the original draws it.
    const mask = torch.rand([x.shape[0]!, 1, 1, 1], { dtype: x.dtype, device: x.device }).add(keep).floor();
    return x.div(keep).mul(mask);
  });
}

/** Mobile inverted bottleneck: 1x1 expand, kxk depthwise, squeeze-and-excitation, 1x1 project. */
export class MBConvBlock extends nn.Module {
  readonly args: BlockArgs;
  readonly _expand_conv: Conv2dStaticSamePadding | null = null;
  readonly _bn0: nn.BatchNorm2d | null = null;
  readonly _depthwise_conv: Conv2dStaticSamePadding;
  readonly _bn1: nn.BatchNorm2d;
  readonly _se_reduce: Conv2dStaticSamePadding;
  readonly _se_expand: Conv2dStaticSamePadding;
  readonly _project_conv: Conv2dStaticSamePadding;
  readonly _bn2: nn.BatchNorm2d;
  readonly _swish: nn.SiLU;
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
      this._expand_conv = this.registerModule('_expand_conv', new Conv2dStaticSamePadding(inp, oup, 1, { bias: false, imageSize: size }));
      this._bn0 = this.registerModule('_bn0', bn(oup));
    }
    this._depthwise_conv = this.registerModule('_depthwise_conv',
      new Conv2dStaticSamePadding(oup, oup, args.kernelSize, { stride: args.stride, groups: oup, bias: false, imageSize: size }));
    this._bn1 = this.registerModule('_bn1', bn(oup));
    // Python's int() truncation of input_filters * se_ratio.
    const squeezed = Math.max(1, Math.trunc(inp * args.seRatio));
    this._se_reduce = this.registerModule('_se_reduce', new Conv2dStaticSamePadding(oup, squeezed, 1, { imageSize: 1 }));
    this._se_expand = this.registerModule('_se_expand', new Conv2dStaticSamePadding(squeezed, oup, 1, { imageSize: 1 }));
    // 1x1 convs never pad, so the post-stride size the original passes here changes nothing.
    this._project_conv = this.registerModule('_project_conv', new Conv2dStaticSamePadding(oup, args.outputFilters, 1, { bias: false, imageSize: size }));
    this._bn2 = this.registerModule('_bn2', bn(args.outputFilters));
    this._swish = this.registerModule('_swish', new nn.SiLU());
    // The first block of a stage never has in == out, so its stride (a list in the original,
    // which never equals 1) makes no difference here.
    this.hasSkip = args.stride === 1 && args.inputFilters === args.outputFilters;
  }

  forward(inputs: Tensor, dropConnectRate = 0): Tensor {
    let x = inputs;
    if (this._expand_conv && this._bn0) x = this._swish.forward(this._bn0.forward(this._expand_conv.forward(x)));
    x = this._swish.forward(this._bn1.forward(this._depthwise_conv.forward(x)));
    const squeezed = this._se_expand.forward(this._swish.forward(this._se_reduce.forward(F.adaptiveAvgPool2d(x, 1))));
    x = squeezed.sigmoid().mul(x);
    x = this._bn2.forward(this._project_conv.forward(x));
    if (!this.hasSkip) return x;
    if (dropConnectRate) x = dropConnect(x, dropConnectRate, this.training);
    return x.add(inputs);
  }
}
