// DeepLab v2 (Chen et al., "DeepLab: Semantic Image Segmentation with Deep Convolutional Nets,
// Atrous Convolution, and Fully Connected CRFs", TPAMI 2017): ResNet-101 with res4/res5 atrous
// (output stride 8), ASPP-L on res5 — four parallel 3x3 convs at rates 6/12/18/24, each straight
// to the classes, their scores SUMMED (sec. 3.3, Fig. 4) — and bilinear upsampling of the scores
// to the input. The dense CRF is post-processing (the inference issue), not part of the net;
// the multi-scale input fusion (MSC) is a training recipe, left to the trainer.
//
// Neither smp nor torchvision has it. The encoder is segkit's ResNet (smp/torchvision keys,
// `encoder.layer3.0.conv2.weight`); the branches are named as in kazuto1011/deeplab-pytorch's
// port of the authors' caffemodel (`aspp.c0` .. `aspp.c3`, here under `decoder.`).
//
// Parameter count, ResNet-101 and 21 classes (Pascal VOC): 44,048,532 =
//   42,500,160  ResNet-101 without its fc (torchvision's published 44,549,160 minus the fc's
//               2,049,000; the authors' Caffe ResNet-101 has the same convolution and
//               BatchNorm/Scale shapes, only the stride sits in res3a/4a/5a's 1x1 instead of the 3x3)
// + 1,548,372   ASPP-L: 4 x (3*3*2048*21 weights + 21 biases).
// The authors' prototxt (deeplab-public-ver2, ResNet-101 ASPP-L fc1_voc12_c0..c3) has the same shapes.
import { nn, type Tensor } from '../../../torch/index.js';
import type { Encoder } from '../../encoders/base.js';
import type { ModelOptions, OutputFor, NoOptions } from '../../registry.js';
import { buildOrDispose } from '../common/assemble.js';
import { buildEncoder, readModelOptions } from '../common/options.js';
import { SimpleSegmentationModel } from '../common/simple.js';

/** DeepLab v2's ASPP: parallel 3x3 atrous convs to the classes, outputs summed (no BatchNorm, no pooling). */
export class ASPPv2 extends nn.Module {
  readonly branches: nn.Conv2d[];

  constructor(inChannels: number, classes: number, rates: number[]) {
    super();
    this.branches = rates.map((rate, i) =>
      this.registerModule(`c${i}`, new nn.Conv2d(inChannels, classes, 3, { padding: rate, dilation: rate, bias: true })),
    );
    // The authors' solver initialises the score layers from N(0, 0.01) with zero bias.
    for (const conv of this.branches) {
      nn.init.normal_(conv.weight, { mean: 0, std: 0.01 });
      nn.init.zeros_(conv.bias!);
    }
  }

  forward(x: Tensor): Tensor {
    const sum = this.branches[0]!.forward(x);
    for (const conv of this.branches.slice(1)) sum.add_(conv.forward(x));
    return sum;
  }
}

export interface DeepLabV2Options extends ModelOptions {
  /** 'resnet101' as the paper; resnet18/34/50 are lighter stand-ins. */
  encoderName?: string;
  /** 8 (the paper) or 16. */
  encoderOutputStride?: 8 | 16;
  /** ASPP-L (6, 12, 18, 24) by default; ASPP-S is (2, 4, 8, 12). Any number of branches. */
  decoderAtrousRates?: readonly number[];
}

const KEYS = ['encoderOutputStride', 'decoderAtrousRates'] as const;

/** Chen et al. 2017 (TPAMI), "DeepLab: ... Atrous Convolution, and Fully Connected CRFs": ResNet-101 + ASPP-L, scores summed. */
export class DeepLabV2<const O extends DeepLabV2Options = NoOptions> extends SimpleSegmentationModel<OutputFor<O>> {
  readonly encoder: Encoder;
  readonly decoder: ASPPv2;

  constructor(options?: O) {
    super();
    // ASPP sits on res5, so all five stages are built.
    const { o, c } = readModelOptions('DeepLabV2', options, KEYS, { encoderName: 'resnet101', minDepth: 5 });
    const outputStride = o.choice('encoderOutputStride', [8, 16] as const, 8);
    const rates = o.intList('decoderAtrousRates', [6, 12, 18, 24]);
    // Caffe's Interp layer, which upsamples DeepLab's scores, maps corner to corner.
    this.alignCorners = true;
    this.setActivation(c.activation);
    [this.encoder, this.decoder] = buildOrDispose(this, () => {
      const encoder = this.registerModule('encoder', buildEncoder(c, outputStride));
      const decoder = this.registerModule('decoder', new ASPPv2(encoder.outChannels[5]!, c.classes, rates));
      this.addClassificationHead(c.auxParams, encoder.outChannels[5]);
      return [encoder, decoder] as const;
    });
  }

  get segmentationHead(): nn.Module {
    return this.decoder;
  }

  protected logits(features: Tensor[]): Tensor {
    return this.decoder.forward(features[features.length - 1]!);
  }
}
