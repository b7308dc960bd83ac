// smp's UnetPlusPlus, registered as 'unetplusplus'.
import { registerModel } from '../../registry.js';
import { UnetPlusPlus, type UnetPlusPlusOptions } from './model.js';

export { UnetPlusPlus, type UnetPlusPlusOptions } from './model.js';
export { UnetPlusPlusDecoder } from './decoder.js';

registerModel({
  name: 'unetplusplus',
  paper: 'Zhou et al. 2018, UNet++: A Nested U-Net Architecture for Medical Image Segmentation (DLMIA), as smp',
  create: (options) => new UnetPlusPlus(options as UnetPlusPlusOptions),
});
