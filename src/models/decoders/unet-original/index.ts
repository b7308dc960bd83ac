// The original U-Net (Ronneberger et al. 2015), registered as 'unet-original' ('unet' is smp's
// encoder-decoder variant).
import { registerModel } from '../../registry.js';
import { UNetOriginal, type UNetOriginalOptions } from './model.js';

export { UNetOriginal, type UNetOriginalOptions } from './model.js';

registerModel({
  name: 'unet-original',
  paper: 'Ronneberger et al. 2015, U-Net: Convolutional Networks for Biomedical Image Segmentation',
  create: (options) => new UNetOriginal(options as UNetOriginalOptions),
});
