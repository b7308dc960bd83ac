// MobileNetV2 encoder (Sandler et al., "MobileNetV2: Inverted Residuals and Linear Bottlenecks",
// CVPR 2018) in torchvision's `features.N` layout, as smp's, so torchvision's ImageNet weights
// and smp checkpoints load by name.
import { nn, type Tensor } from '../../torch/index.js';
import { Encoder, checkOutputStride, type EncoderSpec } from './base.js';
import { registerEncoder } from './registry.js';
import { dilateStage } from './dilate.js';

/** torchvision's Conv2dNormActivation: conv (no bias), BatchNorm, ReLU6, as children 0, 1, 2. */
function convBNReLU6(inp: number, oup: number, kernel: number, stride = 1, groups = 1): nn.Sequential {
  return new nn.Sequential(
    new nn.Conv2d(inp, oup, kernel, { stride, padding: (kernel - 1) / 2, groups, bias: false }),
    new nn.BatchNorm2d(oup),
    new nn.ReLU6(),
  );
}

/** Inverted residual: 1x1 expansion (absent when t = 1), 3x3 depthwise, linear 1x1 projection. */
export class InvertedResidual extends nn.Module {
  readonly conv: nn.Sequential;
  readonly useResConnect: boolean;

  constructor(inp: number, oup: number, stride: number, expandRatio: number) {
    super();
    const hidden = Math.round(inp * expandRatio);
    this.useResConnect = stride === 1 && inp === oup;
    const layers: nn.Module[] = [];
    if (expandRatio !== 1) layers.push(convBNReLU6(inp, hidden, 1));
    layers.push(convBNReLU6(hidden, hidden, 3, stride, hidden), new nn.Conv2d(hidden, oup, 1, { bias: false }), new nn.BatchNorm2d(oup));
    this.conv = this.registerModule('conv', new nn.Sequential(...layers));
  }

  forward(x: Tensor): Tensor {
    const y = this.conv.forward(x) as Tensor;
    return this.useResConnect ? x.add(y) : y;
  }
}

// torchvision's inverted_residual_setting (t: expansion, c: channels, n: repeats, s: first stride).
const SETTING: [number, number, number, number][] = [
  [1, 16, 1, 1],
  [6, 24, 2, 2],
  [6, 32, 3, 2],
  [6, 64, 4, 2],
  [6, 96, 3, 1],
  [6, 160, 3, 2],
  [6, 320, 1, 1],
];
// smp's get_stages: features[:2], [2:4], [4:7], [7:14], [14:] end at strides 2, 4, 8, 16, 32.
const STAGES: [number, number][] = [
  [0, 2],
  [2, 4],
  [4, 7],
  [7, 14],
  [14, 19],
];

/** torchvision's MobileNetV2 (width 1.0) without the classifier, returning smp's six features. */
export class MobileNetV2Encoder extends Encoder {
  readonly outChannels: number[];
  readonly features: nn.Sequential;

  constructor(depth = 5) {
    super(depth);
    this.outChannels = [3, 16, 24, 32, 96, 1280].slice(0, depth + 1);
    const layers: nn.Module[] = [convBNReLU6(3, 32, 3, 2)];
    let input = 32;
    for (const [t, c, n, s] of SETTING) {
      for (let i = 0; i < n; i++) {
        layers.push(new InvertedResidual(input, c, i === 0 ? s : 1, t));
        input = c;
      }
    }
    layers.push(convBNReLU6(input, 1280, 1));
    // smp builds all 19 feature modules whatever the depth, so state dicts always hold them.
    this.features = this.registerModule('features', new nn.Sequential(...layers));
    // torchvision's initialisation: He-normal (fan_out) convs; BatchNorm weight 1, bias 0 is the default.
    for (const m of this.modules()) {
      if (m instanceof nn.Conv2d) nn.init.kaimingNormal_(m.weight, { mode: 'fanOut' });
    }
  }

  private stage(i: number): nn.Module[] {
    const [from, to] = STAGES[i]!;
    return this.features.children().slice(from, to);
  }

  forward(x: Tensor): Tensor[] {
    const features = [x];
    for (let i = 0; i < this.depth; i++) {
      for (const m of this.stage(i)) x = nn.chainLink(x, (t) => m.forward(t), features);
      features.push(x);
    }
    return features;
  }

  override makeDilated(outputStride: 8 | 16): void {
    checkOutputStride(this, outputStride);
    const dilate = (stage: number, rate: number): void => this.stage(stage).forEach((m) => dilateStage(m, rate));
    if (outputStride === 16) dilate(4, 2);
    else {
      dilate(3, 2);
      dilate(4, 4);
    }
    this.outputStride = outputStride;
  }
}

const spec: EncoderSpec = {
  name: 'mobilenet_v2',
  source: 'Sandler et al. 2018, torchvision layout',
  create: ({ depth }) => new MobileNetV2Encoder(depth),
  imagenet: {
    mean: [0.485, 0.456, 0.406],
    std: [0.229, 0.224, 0.225],
    fileName: 'mobilenet_v2-b0353104.pth',
    url: 'https://download.pytorch.org/models/mobilenet_v2-b0353104.pth',
  },
  dilations: [16, 8],
};
registerEncoder(spec);
