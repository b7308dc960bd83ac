// smp's PAN decoder (decoders/pan/decoder.py at commit 5006616) with its module names:
// `fpa.branch1.1.conv`, `fpa.mid.0.conv`, `fpa.down1.1.conv`, ..., `gau3.conv1.1.conv`, `gau3.conv2.conv`.
import { nn, F, type Tensor } from '../../../torch/index.js';
import { checkInt } from '../../../validate.js';

/** Conv (with bias), BatchNorm, optional ReLU, optional 2x bilinear upsampling: smp's ConvBnRelu. */
export class ConvBnRelu extends nn.Module {
  readonly conv: nn.Conv2d;
  readonly activation: nn.ReLU;
  readonly bn: nn.BatchNorm2d;
  readonly addRelu: boolean;
  readonly interpolate: boolean;

  constructor(
    inChannels: number,
    outChannels: number,
    kernelSize: number,
    options: {
      stride?: number;
      padding?: number;
      dilation?: number;
      groups?: number;
      bias?: boolean;
      addRelu?: boolean;
      interpolate?: boolean;
    } = {},
  ) {
    super();
    this.conv = this.registerModule(
      'conv',
      new nn.Conv2d(inChannels, outChannels, kernelSize, {
        stride: options.stride ?? 1,
        padding: options.padding ?? 0,
        dilation: options.dilation ?? 1,
        bias: options.bias ?? true,
        groups: options.groups ?? 1,
      }),
    );
    this.activation = this.registerModule('activation', new nn.ReLU({ inplace: true }));
    this.bn = this.registerModule('bn', new nn.BatchNorm2d(outChannels));
    this.addRelu = options.addRelu ?? true;
    this.interpolate = options.interpolate ?? false;
  }

  forward(x: Tensor): Tensor {
    let y = this.bn.forward(this.conv.forward(x));
    if (this.addRelu) y = this.activation.forward(y);
    if (this.interpolate) y = F.interpolate(y, { scaleFactor: 2, mode: 'bilinear', alignCorners: true });
    return y;
  }
}

type Upscale = 'bilinear' | 'nearest';

function resize(x: Tensor, size: [number, number], mode: Upscale): Tensor {
  return mode === 'bilinear' ? F.interpolate(x, { size, mode, alignCorners: true }) : F.interpolate(x, { size, mode });
}

/**
 * Feature Pyramid Attention (Li et al. 2018, "Pyramid Attention Network for Semantic
 * Segmentation"): a U-shaped 7x7/5x5/3x3 pyramid on the deepest feature gates a 1x1
 * projection, plus a global-pooling branch. The deepest feature must be at least 8x8.
 */
export class FPABlock extends nn.Module {
  readonly branch1: nn.Sequential;
  readonly mid: nn.Sequential;
  readonly down1: nn.Sequential;
  readonly down2: nn.Sequential;
  readonly down3: nn.Sequential;
  readonly conv2: ConvBnRelu;
  readonly conv1: ConvBnRelu;

  constructor(
    inChannels: number,
    outChannels: number,
    readonly upscaleMode: Upscale = 'bilinear',
  ) {
    super();
    this.branch1 = this.registerModule(
      'branch1',
      new nn.Sequential(new nn.AdaptiveAvgPool2d(1), new ConvBnRelu(inChannels, outChannels, 1)),
    );
    this.mid = this.registerModule('mid', new nn.Sequential(new ConvBnRelu(inChannels, outChannels, 1)));
    this.down1 = this.registerModule(
      'down1',
      new nn.Sequential(new nn.MaxPool2d(2, { stride: 2 }), new ConvBnRelu(inChannels, 1, 7, { padding: 3 })),
    );
    this.down2 = this.registerModule(
      'down2',
      new nn.Sequential(new nn.MaxPool2d(2, { stride: 2 }), new ConvBnRelu(1, 1, 5, { padding: 2 })),
    );
    this.down3 = this.registerModule(
      'down3',
      new nn.Sequential(
        new nn.MaxPool2d(2, { stride: 2 }),
        new ConvBnRelu(1, 1, 3, { padding: 1 }),
        new ConvBnRelu(1, 1, 3, { padding: 1 }),
      ),
    );
    this.conv2 = this.registerModule('conv2', new ConvBnRelu(1, 1, 5, { padding: 2 }));
    this.conv1 = this.registerModule('conv1', new ConvBnRelu(1, 1, 7, { padding: 3 }));
  }

  forward(x: Tensor): Tensor {
    const [h, w] = [x.shape[2]!, x.shape[3]!];
    if (h < 8 || w < 8) {
      throw new RangeError(
        `PAN: the deepest feature must be at least 8x8 for the feature pyramid attention, got ${h}x${w} (feature shape [${x.shape.join(', ')}])`,
      );
    }
    const mode = this.upscaleMode;
    const b1 = resize(this.branch1.forward(x) as Tensor, [h, w], mode);
    const middle = this.mid.forward(x) as Tensor;
    const x1 = this.down1.forward(x) as Tensor;
    const x2 = this.down2.forward(x1) as Tensor;
    let x3 = this.down3.forward(x2) as Tensor;
    x3 = resize(x3, [Math.floor(h / 4), Math.floor(w / 4)], mode);
    let y = this.conv2.forward(x2).add(x3);
    y = resize(y, [Math.floor(h / 2), Math.floor(w / 2)], mode);
    y = y.add(this.conv1.forward(x1));
    y = resize(y, [h, w], mode);
    return y.mul(middle).add(b1);
  }
}

/**
 * Global Attention Upsample (Li et al. 2018): the high-level feature, globally pooled, gates a
 * 3x3 projection of the low-level one; the upsampled high-level feature is added.
 */
export class GAUBlock extends nn.Module {
  readonly conv1: nn.Sequential;
  readonly conv2: ConvBnRelu;

  constructor(
    inChannels: number,
    outChannels: number,
    readonly interpolationMode: Upscale = 'bilinear',
  ) {
    super();
    this.conv1 = this.registerModule(
      'conv1',
      new nn.Sequential(new nn.AdaptiveAvgPool2d(1), new ConvBnRelu(outChannels, outChannels, 1, { addRelu: false }), new nn.Sigmoid()),
    );
    this.conv2 = this.registerModule('conv2', new ConvBnRelu(inChannels, outChannels, 3, { padding: 1 }));
  }

  /** x: the low-level feature, y: the high-level one. */
  forward(x: Tensor, y: Tensor): Tensor {
    const yUp = resize(y, [x.shape[2]!, x.shape[3]!], this.interpolationMode);
    const z = this.conv2.forward(x).mul(this.conv1.forward(y) as Tensor);
    return yUp.add(z);
  }
}

/** PAN decoder: FPA on the deepest feature, then GAU blocks down to stride 4 (encoder depth 3 to 5). */
export class PANDecoder extends nn.Module {
  readonly fpa: FPABlock;
  readonly gau3: GAUBlock | null = null;
  readonly gau2: GAUBlock | null = null;
  readonly gau1: GAUBlock;

  constructor(encoderChannels: number[], encoderDepth: number, decoderChannels: number, interpolationMode: Upscale = 'bilinear') {
    super();
    checkInt('PANDecoder', 'encoderDepth', encoderDepth, { min: 3, max: 5 });
    const ch = encoderChannels.slice(2);
    this.fpa = this.registerModule('fpa', new FPABlock(ch[ch.length - 1]!, decoderChannels));
    if (encoderDepth === 5) this.gau3 = this.registerModule('gau3', new GAUBlock(ch[2]!, decoderChannels, interpolationMode));
    if (encoderDepth >= 4) this.gau2 = this.registerModule('gau2', new GAUBlock(ch[1]!, decoderChannels, interpolationMode));
    this.gau1 = this.registerModule('gau1', new GAUBlock(ch[0]!, decoderChannels, interpolationMode));
  }

  forward(features: Tensor[]): Tensor {
    const f = features.slice(2);
    let out = this.fpa.forward(f[f.length - 1]!);
    if (this.gau3) out = this.gau3.forward(f[2]!, out);
    if (this.gau2) out = this.gau2.forward(f[1]!, out);
    return this.gau1.forward(f[0]!, out);
  }
}
