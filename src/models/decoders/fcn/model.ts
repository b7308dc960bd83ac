import { SegmentationModel } from '../../base.js';
// Imported for its registration of 'vgg16'.
import '../../encoders/vgg.js';
import type { VGGEncoder } from '../../encoders/vgg.js';
import { Activation } from '../../heads.js';
import type { ModelOptions, OutputFor, NoOptions } from '../../registry.js';
import { buildOrDispose } from '../common/assemble.js';
import { buildEncoder, readModelOptions } from '../common/options.js';
import { FCNDecoder, type FCNStride } from './decoder.js';

export interface FCNOptions extends ModelOptions {
  /**
   * Channels of fc6 and fc7: 4096 (default), VGG's fully connected width, which the paper keeps
   * so ImageNet's classifier can seed them. Fewer make a much lighter net (fc6 alone is 102.8M
   * parameters at 4096).
   */
  fcChannels?: number;
}

/**
 * A fully convolutional network (Long et al., "Fully Convolutional Networks for Semantic
 * Segmentation", CVPR 2015) on VGG16. Inputs of any size work: they are padded with zeros at
 * the bottom and right to a multiple of 32 and the mask is cropped back (see decoder.ts for how
 * this replaces the Caffe nets' 100-pixel padding and crop offsets).
 *
 * Parameters, classes = 21 (PASCAL VOC), counted over the convolution weights and biases of
 * fcn.berkeleyvision.org's voc-fcn32s/16s/8s nets (deconvolutions without bias), and equal here:
 * FCN-32s 136,152,917; FCN-16s 134,815,994; FCN-8s 134,489,759 (the paper's Table 1: 134M).
 * Of these, VGG16's convolutions are 14,714,688 (torchvision's vgg16().features) and fc6 alone
 * 102,764,544.
 *
 * Training: the paper learns the 2x deconvolutions from their bilinear start and fixes the last
 * one to bilinear (the released nets fix them all); here all are learnable, and
 * `decoder.upscore*.weight.requiresGrad_(false)` fixes one.
 */
export class FCN<const O extends FCNOptions = NoOptions> extends SegmentationModel<OutputFor<O>> {
  readonly encoder: VGGEncoder;
  readonly decoder: FCNDecoder;
  readonly segmentationHead: Activation;

  constructor(stride: FCNStride, options?: O) {
    super();
    // The paper fixes the network: VGG16's five blocks.
    const { o, c } = readModelOptions(`FCN${stride}s`, options, ['fcChannels'], { fixedEncoder: 'vgg16', minDepth: 5 });
    const fcChannels = o.int('fcChannels', 4096);
    [this.encoder, this.decoder, this.segmentationHead] = buildOrDispose(this, () => {
      const encoder = this.registerModule('encoder', buildEncoder(c) as VGGEncoder);
      const decoder = this.registerModule('decoder', new FCNDecoder(c.classes, stride, fcChannels));
      // The scores are the logits: the head only applies the activation.
      const head = this.registerModule('segmentation_head', new Activation(c.activation));
      this.addClassificationHead(c.auxParams, encoder.outChannels[5]);
      return [encoder, decoder, head] as const;
    });
  }
}

/** FCN-32s: pool5's scores upsampled 32x in one step. */
export class FCN32s<const O extends FCNOptions = NoOptions> extends FCN<O> {
  constructor(options?: O) {
    super(32, options);
  }
}

/** FCN-16s: FCN-32s's scores at stride 16 fused with pool4's, upsampled 16x. */
export class FCN16s<const O extends FCNOptions = NoOptions> extends FCN<O> {
  constructor(options?: O) {
    super(16, options);
  }
}

/** FCN-8s: FCN-16s's fused scores at stride 8 fused with pool3's, upsampled 8x. */
export class FCN8s<const O extends FCNOptions = NoOptions> extends FCN<O> {
  constructor(options?: O) {
    super(8, options);
  }
}
