// smp's PAN, registered as 'pan'.
import { registerModel } from '../../registry.js';
import { PAN, type PANOptions } from './model.js';

export { PAN, type PANOptions } from './model.js';
export { PANDecoder } from './decoder.js';

registerModel({
  name: 'pan',
  paper: 'Li et al. 2018, Pyramid Attention Network for Semantic Segmentation (BMVC), as smp',
  create: (options) => new PAN(options as PANOptions),
});
