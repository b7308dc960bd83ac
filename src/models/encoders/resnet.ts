// ResNet and ResNeXt encoders (He et al., "Deep Residual Learning for Image Recognition", CVPR
// 2016; Xie et al., "Aggregated Residual Transformations for Deep Neural Networks", CVPR 2017)
// in torchvision's layout, so torchvision ImageNet weights and smp checkpoints load by name.
// As in torchvision, smp and timm, a variant is data (a ResNetConfig record) and one builder
// makes every variant from it.
import { nn, type Tensor } from '../../torch/index.js';
import { checkChoice, readOptions } from '../../validate.js';
import { Encoder, checkOutputStride, type EncoderSpec } from './base.js';
import { registerEncoder } from './registry.js';
import { dilateStage } from './dilate.js';

/** A ResNet-family variant, as torchvision's ResNet(block, layers, groups, width_per_group). */
export interface ResNetConfig {
  /** 'basic': two 3x3 convs (resnet18/34); 'bottleneck': 1x1, 3x3, 1x1 with 4x expansion. */
  block: 'basic' | 'bottleneck';
  /** Blocks in layer1..layer4. */
  layers: readonly [number, number, number, number];
  /** Groups of the bottleneck's 3x3 conv (ResNeXt's cardinality); 1 for plain ResNets. */
  groups: number;
  /** Channels per group at planes 64 (torchvision's width_per_group): 64 for plain ResNets. */
  widthPerGroup: number;
}

const CONFIG_KEYS = ['block', 'layers', 'groups', 'widthPerGroup'] as const;

/** What a block's constructor takes besides its input and base widths. */
export interface ResNetBlockOptions {
  stride?: number;
  /** 1x1 conv and BatchNorm projecting the input when the shape changes. */
  downsample?: nn.Sequential | null;
  groups?: number;
  widthPerGroup?: number;
}

/** Two 3x3 convs (resnet18/34). torchvision allows no groups or width here, nor does this. */
export class BasicBlock extends nn.Module {
  static readonly expansion = 1;
  readonly conv1: nn.Conv2d;
  readonly bn1: nn.BatchNorm2d;
  readonly relu: nn.ReLU;
  readonly conv2: nn.Conv2d;
  readonly bn2: nn.BatchNorm2d;
  readonly downsample: nn.Sequential | null;

  constructor(inplanes: number, planes: number, options: ResNetBlockOptions = {}) {
    super();
    checkChoice('BasicBlock', 'groups', options.groups ?? 1, [1]);
    checkChoice('BasicBlock', 'widthPerGroup', options.widthPerGroup ?? 64, [64]);
    const stride = options.stride ?? 1;
    this.conv1 = this.registerModule('conv1', new nn.Conv2d(inplanes, planes, 3, { stride, padding: 1, bias: false }));
    this.bn1 = this.registerModule('bn1', new nn.BatchNorm2d(planes));
    this.relu = this.registerModule('relu', new nn.ReLU({ inplace: true }));
    this.conv2 = this.registerModule('conv2', new nn.Conv2d(planes, planes, 3, { padding: 1, bias: false }));
    this.bn2 = this.registerModule('bn2', new nn.BatchNorm2d(planes));
    this.downsample = this.registerModule('downsample', options.downsample ?? null);
  }

  forward(x: Tensor): Tensor {
    // In place where torchvision is (ReLU(inplace=True), out += identity): one buffer fewer per op.
    const out = this.bn2.forward(this.conv2.forward(this.bn1.forward(this.conv1.forward(x)).relu_()));
    return out.add_(this.downsample ? this.downsample.forward(x) : x).relu_();
  }
}

/**
 * 1x1, 3x3 (with the stride: torchvision's "v1.5"), 1x1 to planes x 4 (resnet50/101). The inner
 * width is planes * (widthPerGroup / 64) * groups and the 3x3 conv is grouped: ResNeXt's
 * aggregated transformations, which plain ResNets get with groups 1 and widthPerGroup 64.
 */
export class Bottleneck extends nn.Module {
  static readonly expansion = 4;
  readonly conv1: nn.Conv2d;
  readonly bn1: nn.BatchNorm2d;
  readonly conv2: nn.Conv2d;
  readonly bn2: nn.BatchNorm2d;
  readonly conv3: nn.Conv2d;
  readonly bn3: nn.BatchNorm2d;
  readonly relu: nn.ReLU;
  readonly downsample: nn.Sequential | null;

  constructor(inplanes: number, planes: number, options: ResNetBlockOptions = {}) {
    super();
    const groups = options.groups ?? 1;
    // Python's int() of planes * (base_width / 64.0), then times the groups, as torchvision.
    const width = Math.trunc(planes * ((options.widthPerGroup ?? 64) / 64)) * groups;
    this.conv1 = this.registerModule('conv1', new nn.Conv2d(inplanes, width, 1, { bias: false }));
    this.bn1 = this.registerModule('bn1', new nn.BatchNorm2d(width));
    this.conv2 = this.registerModule(
      'conv2',
      new nn.Conv2d(width, width, 3, { stride: options.stride ?? 1, padding: 1, groups, bias: false }),
    );
    this.bn2 = this.registerModule('bn2', new nn.BatchNorm2d(width));
    this.conv3 = this.registerModule('conv3', new nn.Conv2d(width, planes * 4, 1, { bias: false }));
    this.bn3 = this.registerModule('bn3', new nn.BatchNorm2d(planes * 4));
    this.relu = this.registerModule('relu', new nn.ReLU({ inplace: true }));
    this.downsample = this.registerModule('downsample', options.downsample ?? null);
  }

  forward(x: Tensor): Tensor {
    let out = this.bn1.forward(this.conv1.forward(x)).relu_();
    out = this.bn2.forward(this.conv2.forward(out)).relu_();
    out = this.bn3.forward(this.conv3.forward(out));
    return out.add_(this.downsample ? this.downsample.forward(x) : x).relu_();
  }
}

/** Checks a config's kinds and ranges; a BasicBlock takes no groups or width (torchvision's rule). */
export function checkResNetConfig(config: ResNetConfig, where = 'ResNetEncoder'): ResNetConfig {
  const o = readOptions(where, config, CONFIG_KEYS);
  const block = o.choice('block', ['basic', 'bottleneck'] as const);
  const layers = o.intList('layers', undefined, { min: 1, length: 4, why: 'blocks in layer1..layer4' }) as [number, number, number, number];
  const groups = o.int('groups', 1);
  const widthPerGroup = o.int('widthPerGroup', 64);
  if (block === 'basic') {
    checkChoice(where, 'groups', groups, [1]);
    checkChoice(where, 'widthPerGroup', widthPerGroup, [64]);
  }
  return { block, layers, groups, widthPerGroup };
}

/** torchvision's ResNet (any ResNetConfig) without avgpool and fc, returning smp's six features. */
export class ResNetEncoder extends Encoder {
  readonly config: ResNetConfig;
  readonly outChannels: number[];
  readonly conv1: nn.Conv2d;
  readonly bn1: nn.BatchNorm2d;
  readonly relu: nn.ReLU;
  readonly maxpool: nn.MaxPool2d;
  /** layer1 .. layer4. */
  readonly layers: nn.Sequential[] = [];

  constructor(config: ResNetConfig, depth = 5) {
    super(depth);
    const c = (this.config = checkResNetConfig(config));
    const Block = c.block === 'basic' ? BasicBlock : Bottleneck;
    const e = Block.expansion;
    this.outChannels = [3, 64, 64 * e, 128 * e, 256 * e, 512 * e].slice(0, this.depth + 1);
    this.conv1 = this.registerModule('conv1', new nn.Conv2d(3, 64, 7, { stride: 2, padding: 3, bias: false }));
    this.bn1 = this.registerModule('bn1', new nn.BatchNorm2d(64));
    this.relu = this.registerModule('relu', new nn.ReLU({ inplace: true }));
    this.maxpool = this.registerModule('maxpool', new nn.MaxPool2d(3, { stride: 2, padding: 1 }));
    let inplanes = 64;
    const shape = { groups: c.groups, widthPerGroup: c.widthPerGroup };
    // smp builds the whole torchvision ResNet whatever the depth, so state dicts always hold layer1..4.
    [64, 128, 256, 512].forEach((planes, i) => {
      const stride = i === 0 ? 1 : 2;
      const downsample =
        stride !== 1 || inplanes !== planes * e
          ? new nn.Sequential(new nn.Conv2d(inplanes, planes * e, 1, { stride, bias: false }), new nn.BatchNorm2d(planes * e))
          : null;
      const blocks: nn.Module[] = [new Block(inplanes, planes, { stride, downsample, ...shape })];
      inplanes = planes * e;
      for (let b = 1; b < c.layers[i]!; b++) blocks.push(new Block(inplanes, planes, shape));
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
    checkOutputStride(this, outputStride);
    if (outputStride === 16) dilateStage(this.layers[3]!, 2);
    else {
      dilateStage(this.layers[2]!, 2);
      dilateStage(this.layers[3]!, 4);
    }
    this.outputStride = outputStride;
  }
}

/** The registered variants: torchvision's configurations and ImageNet files (smp's `resnet_encoders`). */
export const RESNET_VARIANTS: Record<string, { config: ResNetConfig; fileName: string; source: string }> = {
  resnet18: {
    config: { block: 'basic', layers: [2, 2, 2, 2], groups: 1, widthPerGroup: 64 },
    fileName: 'resnet18-f37072fd.pth',
    source: 'He et al. 2016',
  },
  resnet34: {
    config: { block: 'basic', layers: [3, 4, 6, 3], groups: 1, widthPerGroup: 64 },
    fileName: 'resnet34-b627a593.pth',
    source: 'He et al. 2016',
  },
  resnet50: {
    config: { block: 'bottleneck', layers: [3, 4, 6, 3], groups: 1, widthPerGroup: 64 },
    fileName: 'resnet50-0676ba61.pth',
    source: 'He et al. 2016',
  },
  resnet101: {
    config: { block: 'bottleneck', layers: [3, 4, 23, 3], groups: 1, widthPerGroup: 64 },
    fileName: 'resnet101-63fe2227.pth',
    source: 'He et al. 2016',
  },
  resnext50_32x4d: {
    config: { block: 'bottleneck', layers: [3, 4, 6, 3], groups: 32, widthPerGroup: 4 },
    fileName: 'resnext50_32x4d-7cdf4587.pth',
    source: 'Xie et al. 2017',
  },
  resnext101_32x8d: {
    config: { block: 'bottleneck', layers: [3, 4, 23, 3], groups: 32, widthPerGroup: 8 },
    fileName: 'resnext101_32x8d-8ba56ff5.pth',
    source: 'Xie et al. 2017',
  },
};

const IMAGENET = { mean: [0.485, 0.456, 0.406] as [number, number, number], std: [0.229, 0.224, 0.225] as [number, number, number] };
for (const [name, { config, fileName, source }] of Object.entries(RESNET_VARIANTS)) {
  const spec: EncoderSpec = {
    name,
    source: `${source}, torchvision layout`,
    create: ({ depth }) => new ResNetEncoder(config, depth),
    imagenet: { ...IMAGENET, fileName, url: `https://download.pytorch.org/models/${fileName}` },
    dilations: [16, 8],
  };
  registerEncoder(spec);
}
