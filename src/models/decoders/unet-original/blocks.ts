// The original U-Net's building blocks, laid out as milesial/Pytorch-UNet's (the most used
// PyTorch port) so that with batchNorm its keys match under the encoder./decoder. prefixes:
// `double_conv.{0,2}` (plain) or `double_conv.{0,1,3,4}` (with BatchNorm), `maxpool_conv.1`, `up`, `conv`.
import { torch, nn, F, type Tensor } from '../../../torch/index.js';

/** Two 3x3 convs with ReLU (the paper's unit); padding 1 keeps the size, BatchNorm is optional. */
export class DoubleConv extends nn.Module {
  readonly doubleConv: nn.Sequential;

  constructor(inChannels: number, outChannels: number, batchNorm = false) {
    super();
    // With BatchNorm the conv bias is redundant, and milesial's port has none.
    const unit = (i: number, o: number): nn.Module[] =>
      batchNorm
        ? [new nn.Conv2d(i, o, 3, { padding: 1, bias: false }), new nn.BatchNorm2d(o), new nn.ReLU({ inplace: true })]
        : [new nn.Conv2d(i, o, 3, { padding: 1 }), new nn.ReLU({ inplace: true })];
    this.doubleConv = this.registerModule(
      'double_conv',
      new nn.Sequential(...unit(inChannels, outChannels), ...unit(outChannels, outChannels)),
    );
  }

  forward(x: Tensor): Tensor {
    return this.doubleConv.forward(x);
  }
}

/** A contracting step: 2x2 max-pool with stride 2, then a DoubleConv doubling the channels. */
export class Down extends nn.Module {
  readonly maxpoolConv: nn.Sequential;

  constructor(inChannels: number, outChannels: number, batchNorm = false) {
    super();
    this.maxpoolConv = this.registerModule(
      'maxpool_conv',
      new nn.Sequential(new nn.MaxPool2d(2), new DoubleConv(inChannels, outChannels, batchNorm)),
    );
  }

  forward(x: Tensor): Tensor {
    return this.maxpoolConv.forward(x);
  }
}

/**
 * An expansive step: a 2x2 up-convolution (stride 2) halving the channels, concatenation with
 * the contracting path's feature of the same level (skip first), then a DoubleConv.
 */
export class Up extends nn.Module {
  readonly up: nn.ConvTranspose2d;
  readonly conv: DoubleConv;

  constructor(inChannels: number, outChannels: number, batchNorm = false) {
    super();
    this.up = this.registerModule('up', new nn.ConvTranspose2d(inChannels, inChannels / 2, 2, { stride: 2 }));
    this.conv = this.registerModule('conv', new DoubleConv(inChannels, outChannels, batchNorm));
  }

  forward(x: Tensor, skip: Tensor): Tensor {
    let up = this.up.forward(x);
    // The model pads its input to a multiple of 16, so sizes agree; pad for direct callers who don't.
    const dh = skip.shape[2]! - up.shape[2]!;
    const dw = skip.shape[3]! - up.shape[3]!;
    if (dh !== 0 || dw !== 0) up = F.pad(up, [Math.floor(dw / 2), dw - Math.floor(dw / 2), Math.floor(dh / 2), dh - Math.floor(dh / 2)]);
    return this.conv.forward(torch.cat([skip, up], 1));
  }
}
