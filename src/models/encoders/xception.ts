// Xception encoder (Chollet, "Xception: Deep Learning with Depthwise Separable Convolutions",
// CVPR 2017) in Cadene's pretrainedmodels layout with smp's changes (conv1/conv2 padded by 1 so
// the stem halves the size exactly, no fc), so its ImageNet weights and smp checkpoints load by name.
import { nn, type Tensor } from '../../torch/index.js';
import { Encoder, checkOutputStride, type EncoderSpec } from './base.js';
import { registerEncoder } from './registry.js';
import { dilateStage } from './dilate.js';

/** A depthwise kxk conv (`conv1`) followed by a pointwise 1x1 conv (`pointwise`), no bias. */
export class SeparableConv2d extends nn.Module {
  readonly conv1: nn.Conv2d;
  readonly pointwise: nn.Conv2d;

  constructor(inChannels: number, outChannels: number, kernelSize = 1, stride = 1, padding = 0) {
    super();
    this.conv1 = this.registerModule(
      'conv1',
      new nn.Conv2d(inChannels, inChannels, kernelSize, { stride, padding, groups: inChannels, bias: false }),
    );
    this.pointwise = this.registerModule('pointwise', new nn.Conv2d(inChannels, outChannels, 1, { bias: false }));
  }

  forward(x: Tensor): Tensor {
    return this.pointwise.forward(this.conv1.forward(x));
  }
}

/**
 * Residual block: `rep` holds (ReLU, separable conv, BN) triples and a strided max-pool; `skip`
 * and `skipbn` project the input when the shape changes. The Sequential indices follow the
 * original's list building (the leading ReLU dropped when start_with_relu is false), because
 * they are the state-dict keys.
 */
export class XceptionBlock extends nn.Module {
  readonly skip: nn.Conv2d | null = null;
  readonly skipbn: nn.BatchNorm2d | null = null;
  readonly rep: nn.Sequential;

  constructor(inFilters: number, outFilters: number, reps: number, strides = 1, startWithRelu = true, growFirst = true) {
    super();
    if (outFilters !== inFilters || strides !== 1) {
      this.skip = this.registerModule('skip', new nn.Conv2d(inFilters, outFilters, 1, { stride: strides, bias: false }));
      this.skipbn = this.registerModule('skipbn', new nn.BatchNorm2d(outFilters));
    }
    const triple = (i: number, o: number): nn.Module[] => [new nn.ReLU(), new SeparableConv2d(i, o, 3, 1, 1), new nn.BatchNorm2d(o)];
    let rep: nn.Module[] = [];
    let filters = inFilters;
    if (growFirst) {
      rep.push(...triple(inFilters, outFilters));
      filters = outFilters;
    }
    for (let i = 0; i < reps - 1; i++) rep.push(...triple(filters, filters));
    if (!growFirst) rep.push(...triple(inFilters, outFilters));
    if (!startWithRelu) rep = rep.slice(1);
    if (strides !== 1) rep.push(new nn.MaxPool2d(3, { stride: strides, padding: 1 }));
    this.rep = this.registerModule('rep', new nn.Sequential(...rep));
  }

  forward(inp: Tensor): Tensor {
    const x = this.rep.forward(inp) as Tensor;
    const skip = this.skip && this.skipbn ? this.skipbn.forward(this.skip.forward(inp)) : inp;
    return x.add(skip);
  }
}

/** pretrainedmodels' Xception without fc, returning smp's six features. */
export class XceptionEncoder extends Encoder {
  readonly outChannels: number[];
  readonly conv1: nn.Conv2d;
  readonly bn1: nn.BatchNorm2d;
  readonly relu1: nn.ReLU;
  readonly conv2: nn.Conv2d;
  readonly bn2: nn.BatchNorm2d;
  readonly relu2: nn.ReLU;
  /** block1 .. block12. */
  readonly blocks: XceptionBlock[] = [];
  readonly conv3: SeparableConv2d;
  readonly bn3: nn.BatchNorm2d;
  readonly relu3: nn.ReLU;
  readonly conv4: SeparableConv2d;
  readonly bn4: nn.BatchNorm2d;

  constructor(depth = 5) {
    super(depth);
    this.outChannels = [3, 64, 128, 256, 728, 2048].slice(0, depth + 1);
    // The original has padding 0 here; smp sets 1 so the stride-2 feature is exactly half the input.
    this.conv1 = this.registerModule('conv1', new nn.Conv2d(3, 32, 3, { stride: 2, padding: 1, bias: false }));
    this.bn1 = this.registerModule('bn1', new nn.BatchNorm2d(32));
    this.relu1 = this.registerModule('relu1', new nn.ReLU());
    this.conv2 = this.registerModule('conv2', new nn.Conv2d(32, 64, 3, { padding: 1, bias: false }));
    this.bn2 = this.registerModule('bn2', new nn.BatchNorm2d(64));
    this.relu2 = this.registerModule('relu2', new nn.ReLU());
    const specs: [number, number, number, number, boolean, boolean][] = [
      [64, 128, 2, 2, false, true],
      [128, 256, 2, 2, true, true],
      [256, 728, 2, 2, true, true],
      ...Array.from({ length: 8 }, (): [number, number, number, number, boolean, boolean] => [728, 728, 3, 1, true, true]),
      [728, 1024, 2, 2, true, false],
    ];
    // smp builds the whole network whatever the depth, so state dicts always hold every block.
    specs.forEach((s, i) => this.blocks.push(this.registerModule(`block${i + 1}`, new XceptionBlock(...s))));
    this.conv3 = this.registerModule('conv3', new SeparableConv2d(1024, 1536, 3, 1, 1));
    this.bn3 = this.registerModule('bn3', new nn.BatchNorm2d(1536));
    this.relu3 = this.registerModule('relu3', new nn.ReLU());
    this.conv4 = this.registerModule('conv4', new SeparableConv2d(1536, 2048, 3, 1, 1));
    this.bn4 = this.registerModule('bn4', new nn.BatchNorm2d(2048));
  }

  forward(x: Tensor): Tensor[] {
    const features = [x];
    const b = this.blocks;
    if (this.depth >= 1) {
      for (const m of [this.conv1, this.bn1, this.relu1, this.conv2, this.bn2, this.relu2])
        x = nn.chainLink(x, (t) => m.forward(t), features);
      features.push(x);
    }
    if (this.depth >= 2) features.push((x = b[0]!.forward(x)));
    if (this.depth >= 3) features.push((x = b[1]!.forward(x)));
    if (this.depth >= 4) {
      for (let i = 2; i < 11; i++) x = nn.chainLink(x, (t) => b[i]!.forward(t), features);
      features.push(x);
    }
    if (this.depth >= 5) {
      for (const m of [b[11]!, this.conv3, this.bn3, this.relu3]) x = nn.chainLink(x, (t) => m.forward(t), features);
      // No ReLU after bn4: smp returns the feature before the classifier's ReLU.
      features.push(this.bn4.forward(this.conv4.forward(x)));
    }
    return features;
  }

  /**
   * smp refuses to dilate Xception; DeepLab v3+ (Chen et al. 2018) runs it atrous. The stage's
   * strided max-pool and skip conv get stride 1 and every conv after that point the dilation,
   * as for ResNet stages; pools have no weights, so the keys stay smp's.
   */
  override makeDilated(outputStride: 8 | 16): void {
    checkOutputStride(this, outputStride);
    const stage5 = [this.blocks[11]!, this.conv3, this.conv4];
    if (outputStride === 16) {
      for (const m of stage5) dilateStage(m, 2);
    } else {
      for (const m of this.blocks.slice(2, 11)) dilateStage(m, 2);
      for (const m of stage5) dilateStage(m, 4);
    }
    this.outputStride = outputStride;
  }
}

const spec: EncoderSpec = {
  name: 'xception',
  source: 'Chollet 2017, Cadene pretrainedmodels layout',
  create: ({ depth }) => new XceptionEncoder(depth),
  imagenet: {
    mean: [0.5, 0.5, 0.5],
    std: [0.5, 0.5, 0.5],
    fileName: 'xception-43020ad28.pth',
    url: 'http://data.lip6.fr/cadene/pretrainedmodels/xception-43020ad28.pth',
  },
  dilations: [16, 8],
  remapWeights(dict: Record<string, Tensor>): Record<string, Tensor> {
    // Copies of the Keras-converted weights store pointwise kernels as 2-D [out, in]; the
    // conv needs [out, in, 1, 1].
    const out: Record<string, Tensor> = {};
    for (const [k, v] of Object.entries(dict)) out[k] = k.endsWith('.pointwise.weight') && v.ndim === 2 ? v.reshape([...v.shape, 1, 1]) : v;
    return out;
  },
};
registerEncoder(spec);
