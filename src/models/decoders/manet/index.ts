// smp's MAnet, registered as 'manet'.
import { registerModel } from '../../registry.js';
import { MAnet, type MAnetOptions } from './model.js';

export { MAnet, type MAnetOptions } from './model.js';
export { MAnetDecoder } from './decoder.js';

registerModel({
  name: 'manet',
  paper: 'Fan et al. 2020, MA-Net: A Multi-Scale Attention Network for Liver and Tumor Segmentation (IEEE Access), as smp',
  create: (options) => new MAnet(options as MAnetOptions),
});
