// ResNet encoders (He et al., "Deep Residual Learning for Image Recognition", CVPR 2016) in
// torchvision's layout, so torchvision ImageNet weights and smp checkpoints load by name.
import { nn, type Tensor } from '../../torch/index.js';
import { Encoder, type EncoderSpec } from './base.js';
import { registerEncoder } from './registry.js';
import { dilateStage } from './dilate.js';

/** Two 3x3 convs (resnet18/34). */
export class BasicBlock extends nn.Module {
  static readonly expansion = 1;
  readonly conv1: nn.Conv2d; readonly bn1: nn.BatchNorm2d; readonly relu: nn.ReLU;
  readonly conv2: nn.Conv2d; readonly bn2: nn.BatchNorm2d; readonly downsample: nn.Sequential | null;

  constructor(inplanes: number, planes: number, stride = 1, downsample: nn.Sequential | null = null) {
    super();
    this.conv1 = this.registerModule('conv1', new nn.Conv2d(inplanes, planes, 3, { stride, padding: 1, bias: false }));
    this.bn1 = this.registerModule('bn1', new nn.BatchNorm2d(planes));
    this.relu = this.registerModule('relu', new nn.ReLU({ inplace: true }));
    this.conv2 = this.registerModule('conv2', new nn.Conv2d(planes, planes, 3, { padding: 1, bias: false }));
    this.bn2 = this.registerModule('bn2', new nn.BatchNorm2d(planes));
    this.downsample = this.registerModule('downsample', downsample);
  }

  forward(x: Tensor): Tensor {
    // In place where torchvision is (ReLU(inplace=True), out += identity): one buffer fewer per op.
    const out = this.bn2.forward(this.conv2.forward(this.bn1.forward(this.conv1.forward(x)).relu_()));
    return out.add_(this.downsample ? this.downsample.forward(x) : x).relu_();
  }
}

/** 1x1, 3x3 (with the stride: torchvision's "v1.5"), 1x1 x4 (resnet50/101). */
export class Bottleneck extends nn.Module {
  static readonly expansion = 4;
  readonly conv1: nn.Conv2d; readonly bn1: nn.BatchNorm2d; readonly conv2: nn.Conv2d; readonly bn2: nn.BatchNorm2d;
  readonly conv3: nn.Conv2d; readonly bn3: nn.BatchNorm2d; readonly relu: nn.ReLU; readonly downsample: nn.Sequential | null;

  constructor(inplanes: number, planes: number, stride = 1, downsample: nn.Sequential | null = null, dilation = 1) {
    super();
    this.conv1 = this.registerModule('conv1', new nn.Conv2d(inplanes, planes, 1, { bias: false }));
    this.bn1 = this.registerModule('bn1', new nn.BatchNorm2d(planes));
    this.conv2 = this.registerModule('conv2', new nn.Conv2d(planes, planes, 3, { stride, padding: dilation, dilation, bias: false }));
    this.bn2 = this.registerModule('bn2', new nn.BatchNorm2d(planes));
    this.conv3 = this.registerModule('conv3', new nn.Conv2d(planes, planes * 4, 1, { bias: false }));
    this.bn3 = this.registerModule('bn3', new nn.BatchNorm2d(planes * 4));
    this.relu = this.registerModule('relu', new nn.ReLU({ inplace: true }));
    this.downsample = this.registerModule('downsample', downsample);
  }

  forward(x: Tensor): Tensor {
    let out = this.bn1.forward(this.conv1.forward(x)).relu_();
    out = this.bn2.forward(this.conv2.forward(out)).relu_();
    out = this.bn3.forward(this.conv3.forward(out));
    return out.add_(this.downsample ? this.downsample.forward(x) : x).relu_();
  }
}

type Block = typeof BasicBlock | typeof Bottleneck;

/** torchvision's ResNet without avgpool and fc, returning smp's six features. */
export class ResNetEncoder extends Encoder {
  readonly outChannels: number[];
  readonly conv1: nn.Conv2d; readonly bn1: nn.BatchNorm2d; readonly relu: nn.ReLU; readonly maxpool: nn.MaxPool2d;
  readonly layers: nn.Sequential[] = [];

  constructor(block: Block, layers: number[], depth = 5) {
    super(depth);
    const e = block.expansion;
    this.outChannels = [3, 64, 64 * e, 128 * e, 256 * e, 512 * e].slice(0, depth + 1);
    this.conv1 = this.registerModule('conv1', new nn.Conv2d(3, 64, 7, { stride: 2, padding: 3, bias: false }));
    this.bn1 = this.registerModule('bn1', new nn.BatchNorm2d(64));
    this.relu = this.registerModule('relu', new nn.ReLU({ inplace: true }));
    this.maxpool = this.registerModule('maxpool', new nn.MaxPool2d(3, { stride: 2, padding: 1 }));
    let inplanes = 64;
    // smp builds the whole torchvision ResNet whatever the depth, so state dicts always hold layer1..4.
    [64, 128, 256, 512].forEach((planes, i) => {
      const stride = i === 0 ? 1 : 2;
      const down = stride !== 1 || inplanes !== planes * e
        ? new nn.Sequential(new nn.Conv2d(inplanes, planes * e, 1, { stride, bias: false }), new nn.BatchNorm2d(planes * e)) : null;
      const blocks: nn.Module[] = [new block(inplanes, planes, stride, down)];
      inplanes = planes * e;
      for (let b = 1; b < layers[i]!; b++) blocks.push(new block(inplanes, planes));
      this.layers.push(this.registerModule(`layer${i + 1}`, new nn.Sequential(...blocks)));
    });
    // torchvision's initialisation: He-normal (fan_out) convs, BatchNorm weight 1 and bias 0.
    for (const m of this.modules()) {
      if (m instanceof nn.Conv2d) nn.init.kaimingNormal_(m.weight, { mode: 'fanOut', nonlinearity: 'relu' });
    }
  }

  forward(x: Tensor): Tensor[] {
    const features = [x];
    if (this.depth >= 1) features.push(this.bn1.forward(this.conv1.forward(x)).relu_());
    if (this.depth >= 2) features.push(this.layers[0]!.forward(this.maxpool.forward(features[1]!)));
    for (let i = 1; i < this.depth - 1; i++) features.push(this.layers[i]!.forward(features[features.length - 1]!));
    return features;
  }

  override makeDilated(outputStride: 8 | 16): void {
    if (outputStride === 16) dilateStage(this.layers[3]!, 2);
    else {
      dilateStage(this.layers[2]!, 2);
      dilateStage(this.layers[3]!, 4);
    }
    this.outputStride = outputStride;
  }
}

const IMAGENET = { mean: [0.485, 0.456, 0.406] as [number, number, number], std: [0.229, 0.224, 0.225] as [number, number, number] };
const variants: [string, Block, number[], string][] = [
  ['resnet18', BasicBlock, [2, 2, 2, 2], 'resnet18-f37072fd.pth'],
  ['resnet34', BasicBlock, [3, 4, 6, 3], 'resnet34-b627a593.pth'],
  ['resnet50', Bottleneck, [3, 4, 6, 3], 'resnet50-0676ba61.pth'],
  ['resnet101', Bottleneck, [3, 4, 23, 3], 'resnet101-63fe2227.pth'],
];
for (const [name, block, layers, fileName] of variants) {
  const spec: EncoderSpec = {
    name,
    source: 'He et al. 2016, torchvision layout',
    create: ({ depth }) => new ResNetEncoder(block, layers, depth),
    imagenet: { ...IMAGENET, fileName, url: `https://download.pytorch.org/models/${fileName}` },
    dilations: [16, 8],
  };
  registerEncoder(spec);
}
