// SegNet's decoder (Badrinarayanan et al. 2017): the mirror of the VGG16-BN encoder, each stage
// unpooling with the indices of its encoder pool and then conv + BN + ReLU as many times as the
// encoder stage had convs. Keys: `decoder.blocks.{0..4}.{i}.{0: conv, 1: bn}`, deepest first.
import { nn, F, type Tensor } from '../../../torch/index.js';

/** Conv 3x3 + BatchNorm + ReLU, the conv with a bias as in the Caffe SegNet (conv*_D layers). */
export class ConvBNReLU extends nn.Sequential {
  constructor(inChannels: number, outChannels: number) {
    super(new nn.Conv2d(inChannels, outChannels, 3, { padding: 1 }), new nn.BatchNorm2d(outChannels), new nn.ReLU({ inplace: true }));
  }
}

/**
 * The decoder stages, deepest first, as the Caffe SegNet's conv5_3_D .. conv1_2_D: the last
 * encoder conv of each stage is mirrored by the first decoder conv and so on, the channel
 * change happening at the stage's last conv. conv1_1_D (to the classes) is the segmentation head.
 */
const STAGES: readonly (readonly [number, number][])[] = [
  [
    [512, 512],
    [512, 512],
    [512, 512],
  ],
  [
    [512, 512],
    [512, 512],
    [512, 256],
  ],
  [
    [256, 256],
    [256, 256],
    [256, 128],
  ],
  [
    [128, 128],
    [128, 64],
  ],
  [[64, 64]],
];

/**
 * SegNet's decoder: from the pool5 output, five stages of max-unpooling (the values go back to
 * the positions the encoder's pools took them from, zeros elsewhere) and convolutions.
 */
export class SegNetDecoder extends nn.Module {
  readonly unpool: nn.MaxUnpool2d;
  readonly blocks: nn.ModuleList;

  constructor() {
    super();
    this.unpool = this.registerModule('unpool', new nn.MaxUnpool2d(2, { stride: 2 }));
    this.blocks = this.registerModule(
      'blocks',
      new nn.ModuleList(STAGES.map((s) => new nn.Sequential(...s.map(([i, o]) => new ConvBNReLU(i, o))))),
    );
    // The Caffe SegNet's "msra" filler: He-normal over the fan in, zero biases.
    for (const m of this.modules()) {
      if (m instanceof nn.Conv2d) {
        nn.init.kaimingNormal_(m.weight, { mode: 'fanIn', nonlinearity: 'relu' });
        nn.init.zeros_(m.bias!);
      }
    }
  }

  /**
   * features: the VGG encoder's six. Features 0..4 are exactly what the encoder's five pools
   * read, so each pool's argmax indices are taken from them here (the same positions the pools
   * chose) rather than widening the encoder contract to return indices.
   */
  forward(features: Tensor[]): Tensor {
    let x = features[5]!;
    for (let i = 0; i < 5; i++) {
      const skip = features[4 - i]!;
      const [, indices] = F.maxPool2d(skip, 2, { stride: 2, returnIndices: true });
      x = this.unpool.forward(x, indices, skip.shape);
      x = (this.blocks.at(i) as nn.Sequential).forward(x);
    }
    return x;
  }
}
