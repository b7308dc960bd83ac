// The original U-Net's expansive path: four Up steps from the 1024-channel bottom to 64 channels.
import { nn, type Tensor } from '../../../torch/index.js';
import { Up } from './blocks.js';
import { UNET_CHANNELS } from './encoder.js';

/** The expansive path of U-Net (Ronneberger et al. 2015): up1 (1024 -> 512) .. up4 (128 -> 64). */
export class UNetExpansivePath extends nn.Module {
  readonly up1: Up;
  readonly up2: Up;
  readonly up3: Up;
  readonly up4: Up;

  constructor(options: { batchNorm?: boolean } = {}) {
    super();
    const bn = options.batchNorm ?? false;
    const c = UNET_CHANNELS;
    this.up1 = this.registerModule('up1', new Up(c[4]!, c[3]!, bn));
    this.up2 = this.registerModule('up2', new Up(c[3]!, c[2]!, bn));
    this.up3 = this.registerModule('up3', new Up(c[2]!, c[1]!, bn));
    this.up4 = this.registerModule('up4', new Up(c[1]!, c[0]!, bn));
  }

  /** features: the contracting path's five levels, shallowest first. */
  forward(features: Tensor[]): Tensor {
    const [x1, x2, x3, x4, x5] = features as [Tensor, Tensor, Tensor, Tensor, Tensor];
    return this.up4.forward(this.up3.forward(this.up2.forward(this.up1.forward(x5, x4), x3), x2), x1);
  }
}
