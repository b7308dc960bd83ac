// smp's Unet, registered as 'unet' (the paper's own network is 'unet-original').
import { registerModel } from '../../registry.js';
import { Unet, type UnetOptions } from './model.js';

export { Unet, type UnetOptions } from './model.js';
export { UnetDecoder, UnetDecoderBlock, type UnetDecoderOptions } from './decoder.js';

registerModel({
  name: 'unet',
  paper: 'Ronneberger et al. 2015, U-Net (smp encoder-decoder variant)',
  create: (options) => new Unet(options as UnetOptions),
});
