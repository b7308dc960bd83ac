// The original U-Net's contracting path as an Encoder, so the model shares SegmentationModel's
// padding, cropping and classification head: five levels of 64..1024 channels at strides 1..16.
import { nn, type Tensor } from '../../../torch/index.js';
import { Encoder } from '../../encoders/base.js';
import { DoubleConv, Down } from './blocks.js';

export const UNET_CHANNELS: readonly number[] = [64, 128, 256, 512, 1024];

/**
 * The contracting path of U-Net (Ronneberger et al. 2015): a DoubleConv at full resolution and
 * four Down steps. forward returns the five levels [stride 1 (64 channels), 2, 4, 8, 16 (1024)];
 * the first is a feature, not the input, as in smp's VGG encoder. Dropout (the paper's "drop-out
 * layers at the end of the contracting path") acts on the two deepest levels, as in the
 * widely used zhixuhao/unet port, and only in training.
 */
export class UNetContractingPath extends Encoder {
  readonly outChannels: number[] = [...UNET_CHANNELS];
  readonly inc: DoubleConv;
  readonly down1: Down;
  readonly down2: Down;
  readonly down3: Down;
  readonly down4: Down;
  readonly dropout: nn.Dropout | nn.Identity;

  constructor(
    private readonly inputChannels: number,
    options: { batchNorm?: boolean; dropout?: number } = {},
  ) {
    super(4);
    this.outputStride = 16;
    const bn = options.batchNorm ?? false;
    const c = UNET_CHANNELS;
    this.inc = this.registerModule('inc', new DoubleConv(inputChannels, c[0]!, bn));
    this.down1 = this.registerModule('down1', new Down(c[0]!, c[1]!, bn));
    this.down2 = this.registerModule('down2', new Down(c[1]!, c[2]!, bn));
    this.down3 = this.registerModule('down3', new Down(c[2]!, c[3]!, bn));
    this.down4 = this.registerModule('down4', new Down(c[3]!, c[4]!, bn));
    const p = options.dropout ?? 0.5;
    this.dropout = this.registerModule('dropout', p > 0 ? new nn.Dropout({ p }) : new nn.Identity());
  }

  override get inChannels(): number {
    return this.inputChannels;
  }

  forward(x: Tensor): Tensor[] {
    const x1 = this.inc.forward(x);
    const x2 = this.down1.forward(x1);
    const x3 = this.down2.forward(x2);
    const x4 = this.dropout.forward(this.down3.forward(x3)) as Tensor;
    const x5 = this.dropout.forward(this.down4.forward(x4)) as Tensor;
    return [x1, x2, x3, x4, x5];
  }
}
