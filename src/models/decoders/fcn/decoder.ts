// FCN's layers after VGG16's convolutions (Long et al. 2015, and the reference Caffe nets of
// fcn.berkeleyvision.org, voc-fcn{32,16,8}s/net.py), under the Caffe names: fc6 and fc7 as
// convolutions, score_fr, the skip scores score_pool4/score_pool3 and the deconvolutions.
//
// Geometry. The Caffe nets pad conv1_1 by 100, run fc6 unpadded and crop the score maps by
// offsets 5 (pool4), 9 (pool3) and 19/27/31 (the output) so that any input size works. Here
// VGG keeps its padding of 1, fc6 is padded by 3 and each deconvolution of kernel 2s and stride s
// gets padding s/2: it then upsamples by exactly s, and its bilinear weights put each coarse
// score at the centre of the finer cells it covers (half-pixel alignment, as bilinear
// interpolation with alignCorners false). The model pads the input to a multiple of 32 and crops
// the output back, so the score maps line up without offsets and no compute goes into the
// 100-pixel border. Parameters are the same as the Caffe nets'.
import { nn, F, type Tensor } from '../../../torch/index.js';
import { checkChoice } from '../../../validate.js';
import { initBilinear_ } from './bilinear.js';

/** Which FCN: the stride of its last upsampling (32s: pool5 only, 16s: + pool4, 8s: + pool3). */
export type FCNStride = 32 | 16 | 8;

/** A deconvolution that upsamples by `stride` with a bilinear kernel of 2 * stride, no bias (as Caffe's). */
function upsampler(classes: number, stride: number): nn.ConvTranspose2d {
  const deconv = new nn.ConvTranspose2d(classes, classes, 2 * stride, { stride, padding: stride / 2, bias: false });
  initBilinear_(deconv);
  return deconv;
}

/** A 1x1 class-scoring conv, zero-initialised as in the paper (random init helped neither accuracy nor speed). */
function scorer(inChannels: number, classes: number): nn.Conv2d {
  const conv = new nn.Conv2d(inChannels, classes, 1);
  nn.init.zeros_(conv.weight);
  nn.init.zeros_(conv.bias!);
  return conv;
}

/**
 * FCN-32s/16s/8s's head (Long et al., "Fully Convolutional Networks for Semantic Segmentation",
 * CVPR 2015): scores from pool5 through fc6/fc7, upsampled in learned deconvolutions and fused
 * by sum with the scores of pool4 (16s, 8s) and pool3 (8s). Input: the VGG encoder's features.
 */
export class FCNDecoder extends nn.Module {
  readonly fc6: nn.Conv2d;
  readonly relu6: nn.ReLU;
  readonly drop6: nn.Dropout;
  readonly fc7: nn.Conv2d;
  readonly relu7: nn.ReLU;
  readonly drop7: nn.Dropout;
  readonly scoreFr: nn.Conv2d;
  readonly upscore2: nn.ConvTranspose2d | null = null;
  readonly scorePool4: nn.Conv2d | null = null;
  readonly upscorePool4: nn.ConvTranspose2d | null = null;
  readonly scorePool3: nn.Conv2d | null = null;
  /** The final deconvolution: Caffe's upscore (32s), upscore16 (16s) or upscore8 (8s). */
  readonly upscore: nn.ConvTranspose2d;

  /** fcChannels: the width of fc6 and fc7 (VGG's 4096 in the paper). */
  constructor(
    readonly classes: number,
    readonly stride: FCNStride,
    fcChannels = 4096,
  ) {
    super();
    checkChoice('FCNDecoder', 'stride', stride, [32, 16, 8]);
    this.fc6 = this.registerModule('fc6', new nn.Conv2d(512, fcChannels, 7, { padding: 3 }));
    this.relu6 = this.registerModule('relu6', new nn.ReLU({ inplace: true }));
    this.drop6 = this.registerModule('drop6', new nn.Dropout({ p: 0.5 }));
    this.fc7 = this.registerModule('fc7', new nn.Conv2d(fcChannels, fcChannels, 1));
    this.relu7 = this.registerModule('relu7', new nn.ReLU({ inplace: true }));
    this.drop7 = this.registerModule('drop7', new nn.Dropout({ p: 0.5 }));
    // fc6 and fc7 are VGG's classifier reshaped, so they start as torchvision initialises it.
    for (const fc of [this.fc6, this.fc7]) {
      nn.init.normal_(fc.weight, { std: 0.01 });
      nn.init.zeros_(fc.bias!);
    }
    this.scoreFr = this.registerModule('score_fr', scorer(fcChannels, classes));
    if (stride <= 16) {
      this.upscore2 = this.registerModule('upscore2', upsampler(classes, 2));
      this.scorePool4 = this.registerModule('score_pool4', scorer(512, classes));
    }
    if (stride === 8) {
      this.upscorePool4 = this.registerModule('upscore_pool4', upsampler(classes, 2));
      this.scorePool3 = this.registerModule('score_pool3', scorer(256, classes));
    }
    this.upscore = this.registerModule(stride === 32 ? 'upscore' : `upscore${stride}`, upsampler(classes, stride));
  }

  /**
   * features: the VGG encoder's six, taken before each pool. The paper's skips are pool4 and
   * pool3, one pooling later than conv4_3 and conv3_3 (features 3 and 2), so they are pooled here.
   */
  forward(features: Tensor[]): Tensor {
    const pool5 = features[5]!;
    let h = this.drop6.forward(this.relu6.forward(this.fc6.forward(pool5)));
    h = this.drop7.forward(this.relu7.forward(this.fc7.forward(h)));
    h = this.scoreFr.forward(h);
    if (this.upscore2 && this.scorePool4) {
      const pool4 = F.maxPool2d(features[3]!, 2, { stride: 2 });
      h = this.upscore2.forward(h).add(this.scorePool4.forward(pool4));
    }
    if (this.upscorePool4 && this.scorePool3) {
      const pool3 = F.maxPool2d(features[2]!, 2, { stride: 2 });
      h = this.upscorePool4.forward(h).add(this.scorePool3.forward(pool3));
    }
    return this.upscore.forward(h);
  }
}
