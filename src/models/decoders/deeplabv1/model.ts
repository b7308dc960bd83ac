// DeepLab v1, the LargeFOV variant (Chen et al. 2015), registered as 'deeplabv1'. State-dict
// keys: `encoder.features.N` (torchvision's VGG16, so ImageNet weights load by name),
// `decoder.fc6`, `decoder.fc7` and `segmentation_head.0` (fc8). The fully connected CRF that
// the paper runs on the output is a post-processing step of the inference pipeline.
import { nn } from '../../../torch/index.js';
import { SegmentationModel } from '../../base.js';
// Imported for its registration of 'vgg16'.
import '../../encoders/vgg.js';
import type { VGGEncoder } from '../../encoders/vgg.js';
import { SegmentationHead } from '../../heads.js';
import type { ModelOptions, OutputFor, NoOptions } from '../../registry.js';
import { buildOrDispose } from '../common/assemble.js';
import { buildEncoder, readModelOptions } from '../common/options.js';
import { makeAtrousVgg } from './backbone.js';
import { LargeFOV } from './decoder.js';

/** createModel's common options; the encoder is the paper's ('vgg16', depth 5). */
export type DeepLabV1Options = ModelOptions;

/**
 * DeepLab-LargeFOV (Chen et al., "Semantic Image Segmentation with Deep Convolutional Nets and
 * Fully Connected CRFs", ICLR 2015): VGG16 with atrous conv5 and stride-1 pool4/pool5 (output
 * stride 8), fc6 3x3 at rate 12 and fc7 with 1024 channels, fc8 to the classes, and bilinear
 * upsampling by 8 to the input size. Inputs of any size work: they are padded with zeros at the
 * bottom and right to a multiple of 8 and the mask is cropped back. (The Caffe net used sizes
 * 8k + 1, where align-corners upsampling maps score j exactly onto pixel 8j; at 8k the grid is
 * off by under one input pixel.)
 *
 * Parameters: 20,505,429 for classes = 21 (PASCAL VOC), the convolution weights and biases of
 * the DeepLab-LargeFOV Caffe net and the paper's 20.5M (Table 2): VGG16's convolutions
 * 14,714,688, fc6 4,719,616, fc7 1,049,600, fc8 1024 * classes + classes.
 */
export class DeepLabV1<const O extends DeepLabV1Options = NoOptions> extends SegmentationModel<OutputFor<O>> {
  readonly encoder: VGGEncoder;
  readonly decoder: LargeFOV;
  readonly segmentationHead: SegmentationHead;

  constructor(options?: O) {
    super();
    const { c } = readModelOptions('DeepLabV1', options, [], { fixedEncoder: 'vgg16', minDepth: 5 });
    [this.encoder, this.decoder, this.segmentationHead] = buildOrDispose(this, () => {
      const encoder = this.registerModule('encoder', buildEncoder(c) as VGGEncoder);
      makeAtrousVgg(encoder);
      const decoder = this.registerModule('decoder', new LargeFOV());
      // fc8: 1x1 to the classes, N(0, 0.01) as the Caffe net's filler; then x8 bilinear (align corners, as Caffe's Interp).
      const head = this.registerModule(
        'segmentation_head',
        new SegmentationHead(1024, c.classes, {
          kernelSize: 1,
          upsampling: 8,
          activation: c.activation,
        }),
      );
      const fc8 = head.at(0) as nn.Conv2d;
      nn.init.normal_(fc8.weight, { std: 0.01 });
      nn.init.zeros_(fc8.bias!);
      this.addClassificationHead(c.auxParams, encoder.outChannels[5]);
      return [encoder, decoder, head] as const;
    });
  }
}
