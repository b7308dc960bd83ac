// SegNet (Badrinarayanan, Kendall & Cipolla 2017), registered as 'segnet'.
import { registerModel } from '../../registry.js';
import { SegNet, type SegNetOptions } from './model.js';

export { SegNet, type SegNetOptions } from './model.js';
export { SegNetDecoder } from './decoder.js';

registerModel({
  name: 'segnet',
  paper: 'Badrinarayanan et al. 2017, SegNet: A Deep Convolutional Encoder-Decoder Architecture for Image Segmentation',
  create: (options) => new SegNet(options as SegNetOptions),
});
