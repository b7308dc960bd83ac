// RefineNet (Lin et al. 2017) on segkit's ResNet encoders. Neither smp nor torchvision has it,
// so the names are segkit's own (paper terms): `decoder.refinenet4.input_conv.weight`,
// `decoder.refinenet3.rcus.0.1.conv1.weight`, `decoder.refinenet3.fusion.convs.0.weight`,
// `decoder.refinenet1.crp.convs.3.weight`, `decoder.output_rcus.1.conv2.weight`,
// `segmentation_head.0.weight`.
import { nn } from '../../../torch/index.js';
import type { Encoder } from '../../encoders/base.js';
import { SegmentationModel } from '../../base.js';
import { SegmentationHead } from '../../heads.js';
import type { ModelOptions, OutputFor, NoOptions } from '../../registry.js';
import { buildOrDispose } from '../common/assemble.js';
import { buildEncoder, readModelOptions } from '../common/options.js';
import { RefineNetDecoder } from './decoder.js';

export interface RefineNetOptions extends ModelOptions {
  /** Channels of each RefineNet block, deepest first (default [512, 256, 256, 256]: the paper's). */
  decoderChannels?: readonly number[];
  /** Pooling blocks per chained residual pooling (default 4, as the authors' released models). */
  decoderCrpBlocks?: number;
  /** Dropout before the classifier and on encoder features wider than 512 channels (default 0.5). */
  decoderDropout?: number;
}

const KEYS = ['decoderChannels', 'decoderCrpBlocks', 'decoderDropout'];

/**
 * RefineNet: Lin, Milan, Shen & Reid 2017, "RefineNet: Multi-Path Refinement Networks for
 * High-Resolution Semantic Segmentation" (CVPR). The 4-cascaded RefineNet on a ResNet (default
 * resnet101, the paper's): RefineNet-4 (512 channels) on the stride-32 stage, RefineNet-3..1
 * (256) down to stride 4, two RCUs, dropout, a 3x3 classifier, bilinear upsampling x4.
 * encoderDepth 2..5 gives the 1- to 4-cascaded variants of the paper's Sec. 5.
 *
 * Parameter count. With resnet101 and 21 classes: 118,052,437 (decoder and head 75,552,277,
 * encoder 42,500,160 without torchvision's fc). The authors' reference network
 * (guosheng/refinenet, MatConvNet, as in its released models: 4 pooling blocks per chained
 * residual pooling, 3 RCUs after each pooling, no loss-group RCUs, 3x3 classifier) is the
 * same graph with the block boundaries drawn elsewhere (their 3 "mainflow" RCUs are the paper's
 * output RCU plus the next block's two RCUs on the coarser path, or the final two), and counts
 * the same 118,052,437 over its layer list (test/models-refinenet.test.ts recomputes it from
 * that list). Nekrasov et al. 2018 (Light-Weight RefineNet) quote about 118M for RefineNet-101.
 * Differences from the paper's text: none structural; the classifier kernel (3x3), the missing
 * biases of the adaptation/fusion/pooling convs, N(0, 0.01) initialisation and the dropout
 * placement are the authors' code's choices, which the paper does not state.
 */
export class RefineNet<const O extends RefineNetOptions = NoOptions> extends SegmentationModel<OutputFor<O>> {
  readonly encoder: Encoder;
  readonly decoder: RefineNetDecoder;
  readonly segmentationHead: SegmentationHead;

  constructor(options?: O) {
    super();
    const { o, c } = readModelOptions('RefineNet', options, KEYS, { encoderName: 'resnet101', minDepth: 2 });
    const n = c.encoderDepth - 1;
    const channels = o.intList('decoderChannels', [512, ...Array<number>(n - 1).fill(256)], {
      min: 1,
      length: n,
      why: `one per RefineNet block: encoderDepth - 1 = ${n}`,
    });
    const crpBlocks = o.int('decoderCrpBlocks', 4);
    const dropout = o.probability('decoderDropout', 0.5);
    [this.encoder, this.decoder, this.segmentationHead] = buildOrDispose(this, () => {
      const encoder = this.registerModule('encoder', buildEncoder(c));
      const decoder = this.registerModule('decoder', new RefineNetDecoder(encoder.outChannels, { channels, crpBlocks, dropout }));
      const head = this.registerModule(
        'segmentation_head',
        new SegmentationHead(decoder.outChannels, c.classes, {
          activation: c.activation,
          kernelSize: 3,
          upsampling: 4,
        }),
      );
      this.addClassificationHead(c.auxParams, encoder.outChannels[encoder.outChannels.length - 1]);
      // The authors' initialisation of the new layers: weights N(0, 0.01), biases 0.
      for (const m of [decoder, head]) {
        for (const [name, p] of m.namedParameters()) {
          if (name.endsWith('bias')) nn.init.zeros_(p);
          else nn.init.normal_(p, { std: 0.01 });
        }
      }
      return [encoder, decoder, head] as const;
    });
  }
}
