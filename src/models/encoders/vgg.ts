// VGG encoders (Simonyan & Zisserman, "Very Deep Convolutional Networks for Large-Scale Image
// Recognition", ICLR 2015) in torchvision's `features.N` layout, as smp's VGGEncoder: torchvision
// ImageNet weights and smp checkpoints load by name (`encoder.features.28.weight`).
import { nn, type Tensor } from '../../torch/index.js';
import { readOptions } from '../../validate.js';
import { Encoder, type EncoderSpec } from './base.js';
import { registerEncoder } from './registry.js';

/** A VGG configuration as torchvision's `cfgs`: output channels of each 3x3 conv, 'M' for a max-pool. */
export type VggConfig = readonly (number | 'M')[];

/** torchvision's cfgs['D']: VGG16's 13 convs in five blocks. */
export const VGG16_CONFIG: VggConfig = [64, 64, 'M', 128, 128, 'M', 256, 256, 256, 'M', 512, 512, 512, 'M', 512, 512, 512, 'M'];

/** torchvision's make_layers: conv 3x3 (padding 1), BatchNorm when asked, ReLU; MaxPool2d(2) for 'M'. */
export function makeLayers(config: VggConfig, batchNorm: boolean): nn.Sequential {
  const layers: nn.Module[] = [];
  let inChannels = 3;
  for (const v of config) {
    if (v === 'M') {
      layers.push(new nn.MaxPool2d(2, { stride: 2 }));
      continue;
    }
    layers.push(new nn.Conv2d(inChannels, v, 3, { padding: 1 }));
    if (batchNorm) layers.push(new nn.BatchNorm2d(v));
    layers.push(new nn.ReLU({ inplace: true }));
    inChannels = v;
  }
  return new nn.Sequential(...layers);
}

export interface VGGEncoderOptions {
  config?: VggConfig;
  batchNorm?: boolean;
  depth?: number;
}

const OPTION_KEYS = ['config', 'batchNorm', 'depth'] as const;

const isConfig = (v: unknown): boolean =>
  Array.isArray(v) && v.length > 0 && v.every((x) => x === 'M' || (typeof x === 'number' && Number.isInteger(x) && x > 0));

/**
 * torchvision's VGG without its classifier, returning smp's six features: the activations just
 * before each max-pool (strides 1, 2, 4, 8, 16; the first is conv1_2's output with 64 channels,
 * not the input) and the last pool's output (stride 32). smp builds every layer whatever the
 * depth, so state dicts always hold the 13 convs.
 */
export class VGGEncoder extends Encoder {
  readonly outChannels: number[];
  readonly features: nn.Sequential;

  constructor(options: VGGEncoderOptions = {}) {
    const o = readOptions('VGGEncoder', options, OPTION_KEYS);
    super(o.int('depth', 5, { min: 1, max: 5 }));
    const config = o.custom<VggConfig>('config', VGG16_CONFIG, isConfig, "an array of positive integers and 'M'");
    this.features = this.registerModule('features', makeLayers(config, o.bool('batchNorm', false)));
    const beforePools = config.filter((v, i) => v !== 'M' && config[i + 1] === 'M') as number[];
    this.outChannels = [...beforePools, beforePools[beforePools.length - 1]!].slice(0, this.depth + 1);
    // torchvision's VGG._initialize_weights.
    for (const m of this.modules()) {
      if (m instanceof nn.Conv2d) {
        nn.init.kaimingNormal_(m.weight, { mode: 'fanOut', nonlinearity: 'relu' });
        if (m.bias) nn.init.zeros_(m.bias);
      }
    }
  }

  /** The first conv reads the input; outChannels[0] is conv1_2's width, not the input's. */
  override get inChannels(): number {
    return (this.features.at(0) as nn.Conv2d).inChannels;
  }

  forward(input: Tensor): Tensor[] {
    const out: Tensor[] = [];
    const live = [input];
    let x = input;
    for (const m of this.features.children()) {
      if (m instanceof nn.MaxPool2d) {
        out.push(x);
        live.push(x);
        if (out.length === this.depth + 1) return out;
      }
      x = nn.chainLink(x, (t) => m.forward(t), live);
    }
    out.push(x);
    return out;
  }

  override makeDilated(outputStride: 8 | 16): void {
    throw new Error(
      `VGGEncoder cannot be dilated to output stride ${outputStride}: it downsamples by max-pooling, which has no dilation (as in smp)`,
    );
  }
}

const IMAGENET = { mean: [0.485, 0.456, 0.406] as [number, number, number], std: [0.229, 0.224, 0.225] as [number, number, number] };
const variants: [string, boolean, string][] = [
  ['vgg16', false, 'vgg16-397923af.pth'],
  ['vgg16_bn', true, 'vgg16_bn-6c64b313.pth'],
];
for (const [name, batchNorm, fileName] of variants) {
  const spec: EncoderSpec = {
    name,
    source: 'Simonyan & Zisserman 2015, torchvision layout',
    create: ({ depth }) => new VGGEncoder({ batchNorm, depth }),
    imagenet: { ...IMAGENET, fileName, url: `https://download.pytorch.org/models/${fileName}` },
    dilations: [],
  };
  registerEncoder(spec);
}
