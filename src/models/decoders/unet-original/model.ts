// The original U-Net (Ronneberger et al. 2015), registered as 'unet-original' ('unet' is smp's
// encoder-decoder variant). State-dict keys: `encoder.inc`, `encoder.down1..4`, `decoder.up1..4`
// (milesial/Pytorch-UNet's names under these prefixes) and `segmentation_head.0` (its outc).
import { nn, type Tensor } from '../../../torch/index.js';
import { SegmentationModel } from '../../base.js';
import { SegmentationHead } from '../../heads.js';
import { registerModel, type ModelOptions } from '../../registry.js';
import { resolvePaperOptions, type PaperModelOptions } from '../fcn/options.js';
import { UNetExpansivePath } from './decoder.js';
import { UNetContractingPath } from './encoder.js';

export interface UNetOriginalOptions extends Omit<PaperModelOptions, 'encoderName' | 'encoderDepth' | 'encoderWeights'> {
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
export class UNetOriginal extends SegmentationModel {
  readonly encoder: UNetContractingPath;
  readonly decoder: UNetExpansivePath;
  readonly segmentationHead: SegmentationHead;

  constructor(options: UNetOriginalOptions = {}) {
    super();
    const o = resolvePaperOptions('unet-original', options, null, ['batchNorm', 'dropout']);
    const batchNorm = options.batchNorm ?? false;
    if (typeof batchNorm !== 'boolean') throw new TypeError(`unet-original: batchNorm must be a boolean, got ${String(batchNorm)}`);
    const dropout = options.dropout ?? 0.5;
    if (typeof dropout !== 'number' || !(dropout >= 0 && dropout < 1)) throw new RangeError(`unet-original: dropout must be a number in [0, 1), got ${String(dropout)}`);
    this.encoder = this.registerModule('encoder', new UNetContractingPath(o.inChannels, { batchNorm, dropout }));
    this.decoder = this.registerModule('decoder', new UNetExpansivePath({ batchNorm }));
    this.segmentationHead = this.registerModule('segmentation_head', new SegmentationHead(64, o.classes, { kernelSize: 1, activation: o.activation }));
    this.addClassificationHead(o.auxParams);
    for (const m of [this.encoder, this.decoder, this.segmentationHead].flatMap((p) => p.modules())) {
      if (m instanceof nn.Conv2d || m instanceof nn.ConvTranspose2d) {
        nn.init.kaimingNormal_(m.weight, { mode: 'fanIn', nonlinearity: 'relu' });
        if (m.bias) nn.init.zeros_(m.bias);
      }
    }
  }

  override forward(x: Tensor): Tensor | { mask: Tensor; label: Tensor } {
    return super.forward(x);
  }
}

registerModel({
  name: 'unet-original',
  paper: 'Ronneberger et al. 2015, U-Net: Convolutional Networks for Biomedical Image Segmentation',
  create: (options: ModelOptions) => new UNetOriginal(options as UNetOriginalOptions),
});
