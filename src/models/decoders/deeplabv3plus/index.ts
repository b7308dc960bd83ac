// DeepLab v3+ (Chen et al. 2018, ECCV), smp's layout, registered as 'deeplabv3plus'.
import { registerModel } from '../../registry.js';
import { DeepLabV3Plus, type DeepLabV3PlusOptions } from './model.js';

export { DeepLabV3Plus, DeepLabV3PlusDecoder, type DeepLabV3PlusOptions } from './model.js';

registerModel({
  name: 'deeplabv3plus',
  paper: 'Chen et al. 2018, Encoder-Decoder with Atrous Separable Convolution for Semantic Image Segmentation (ECCV)',
  create: (options) => new DeepLabV3Plus(options as DeepLabV3PlusOptions),
});
