// SegNet (Badrinarayanan, Kendall & Cipolla 2017), registered as 'segnet'. State-dict keys:
// `encoder.features.N` (torchvision's vgg16_bn, so ImageNet weights load by name),
// `decoder.blocks.S.I.{0,1}` and `segmentation_head.0` (the Caffe net's conv1_1_D).
import { nn } from '../../../torch/index.js';
import { SegmentationModel } from '../../base.js';
// Imported for its registration of 'vgg16_bn'.
import '../../encoders/vgg.js';
import type { VGGEncoder } from '../../encoders/vgg.js';
import { SegmentationHead } from '../../heads.js';
import type { ModelOptions, OutputFor, NoOptions } from '../../registry.js';
import { buildOrDispose } from '../common/assemble.js';
import { buildEncoder, readModelOptions } from '../common/options.js';
import { SegNetDecoder } from './decoder.js';

/** createModel's common options; the encoder is the paper's ('vgg16_bn', depth 5). */
export type SegNetOptions = ModelOptions;

/**
 * SegNet (Badrinarayanan et al., "SegNet: A Deep Convolutional Encoder-Decoder Architecture for
 * Image Segmentation", TPAMI 2017): VGG16-BN's 13 convs as the encoder, whose max-pooling
 * indices drive the non-learned upsampling (MaxUnpool2d) of a mirrored decoder of conv + BN +
 * ReLU, and a final 3x3 conv to the classes. Inputs of any size work: they are padded with
 * zeros at the bottom and right to a multiple of 32 and the mask is cropped back.
 *
 * Parameters: 29,449,355 for classes = 11 (CamVid), the Caffe SegNet's count (convolutions with
 * biases, BatchNorm scale and shift) and the paper's 29.5M; the encoder is 14,723,136
 * (torchvision's vgg16_bn().features; the paper's 14.7M, Sec. 3), the decoder 14,719,872 and the final
 * conv 64 * 9 * classes + classes.
 */
export class SegNet<const O extends SegNetOptions = NoOptions> extends SegmentationModel<OutputFor<O>> {
  readonly encoder: VGGEncoder;
  readonly decoder: SegNetDecoder;
  readonly segmentationHead: SegmentationHead;

  constructor(options?: O) {
    super();
    const { c } = readModelOptions('SegNet', options, [], { fixedEncoder: 'vgg16_bn', minDepth: 5 });
    [this.encoder, this.decoder, this.segmentationHead] = buildOrDispose(this, () => {
      const encoder = this.registerModule('encoder', buildEncoder(c) as VGGEncoder);
      const decoder = this.registerModule('decoder', new SegNetDecoder());
      const head = this.registerModule(
        'segmentation_head',
        new SegmentationHead(64, c.classes, { kernelSize: 3, activation: c.activation }),
      );
      const conv = head.at(0) as nn.Conv2d;
      nn.init.kaimingNormal_(conv.weight, { mode: 'fanIn', nonlinearity: 'relu' });
      nn.init.zeros_(conv.bias!);
      this.addClassificationHead(c.auxParams, encoder.outChannels[5]);
      return [encoder, decoder, head] as const;
    });
  }
}
