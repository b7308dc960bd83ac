// The original U-Net (Ronneberger et al. 2015), registered as 'unet-original' ('unet' is smp's
// encoder-decoder variant). State-dict keys: `encoder.inc`, `encoder.down1..4`, `decoder.up1..4`
// (milesial/Pytorch-UNet's names under these prefixes) and `segmentation_head.0` (its outc).
import { nn } from '../../../torch/index.js';
import { OptionReader } from '../../../validate.js';
import { SegmentationModel } from '../../base.js';
import { SegmentationHead } from '../../heads.js';
import type { ModelOptions, OutputFor, NoOptions } from '../../registry.js';
import { buildOrDispose } from '../common/assemble.js';
import { commonOptions, COMMON_KEYS } from '../common/options.js';
import { UNetExpansivePath } from './decoder.js';
import { UNetContractingPath } from './encoder.js';

/** createModel's options without the encoder ones (the network has its own contracting path). */
export interface UNetOriginalOptions extends Omit<ModelOptions, 'encoderName' | 'encoderDepth' | 'encoderWeights'> {
  /** BatchNorm after each conv (default false: the paper has none; the convs then lose their bias). */
  batchNorm?: boolean;
  /** Dropout probability at the end of the contracting path, in training (default 0.5, the paper's; 0 turns it off). */
  dropout?: number;
}

/**
 * U-Net (Ronneberger, Fischer & Brox, "U-Net: Convolutional Networks for Biomedical Image
 * Segmentation", MICCAI 2015): a contracting path of double 3x3 convs (64 .. 1024 channels) and
 * 2x2 max-pools, an expansive path of 2x2 up-convolutions halving the channels, concatenated
 * skips and double 3x3 convs, and a 1x1 conv to the classes. The paper's convs are unpadded
 * (a 572 input gives a 388 map); here they are padded by 1, so the output has the input's size,
 * and inputs of any size are padded with zeros at the bottom and right to a multiple of 16 and
 * the mask cropped back. Weights start as the paper's: Gaussian with std sqrt(2 / fan in).
 *
 * Parameters: 31,030,658 for inChannels = 1, classes = 2, the paper's network (Fig. 1); padding
 * changes no parameter. The 31,031,685 often quoted is zhixuhao/unet's Keras summary, which
 * ends in an extra 3x3 conv to 2 channels and a 1x1 conv to 1 (1,154 + 3 parameters instead of 130).
 */
export class UNetOriginal<const O extends UNetOriginalOptions = NoOptions> extends SegmentationModel<OutputFor<O>> {
  readonly encoder: UNetContractingPath;
  readonly decoder: UNetExpansivePath;
  readonly segmentationHead: SegmentationHead;

  constructor(options?: O) {
    super();
    const keys = [...COMMON_KEYS.filter((k) => !k.startsWith('encoder')), 'batchNorm', 'dropout'];
    const encoderKey = Object.entries(options ?? {}).find(([k, v]) => k.startsWith('encoder') && v !== undefined)?.[0];
    if (encoderKey) {
      throw new TypeError(
        `UNetOriginal: unknown option '${encoderKey}' (the network has the paper's own contracting path, no encoder to choose; known: ${keys.join(', ')})`,
      );
    }
    const o = new OptionReader('UNetOriginal', options, keys);
    const c = commonOptions(o, { noEncoder: true });
    const batchNorm = o.bool('batchNorm', false);
    const dropout = o.probability('dropout', 0.5);
    [this.encoder, this.decoder, this.segmentationHead] = buildOrDispose(this, () => {
      const encoder = this.registerModule('encoder', new UNetContractingPath(c.inChannels, { batchNorm, dropout }));
      const decoder = this.registerModule('decoder', new UNetExpansivePath({ batchNorm }));
      const head = this.registerModule(
        'segmentation_head',
        new SegmentationHead(64, c.classes, { kernelSize: 1, activation: c.activation }),
      );
      this.addClassificationHead(c.auxParams, encoder.outChannels[encoder.outChannels.length - 1]);
      for (const m of [encoder, decoder, head].flatMap((p) => p.modules())) {
        if (m instanceof nn.Conv2d || m instanceof nn.ConvTranspose2d) {
          nn.init.kaimingNormal_(m.weight, { mode: 'fanIn', nonlinearity: 'relu' });
          if (m.bias) nn.init.zeros_(m.bias);
        }
      }
      return [encoder, decoder, head] as const;
    });
  }
}
