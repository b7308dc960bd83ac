// DeepLab v2 (Chen et al., TPAMI 2017), registered as 'deeplabv2' (default encoder resnet101).
import { registerModel } from '../../registry.js';
import { DeepLabV2, type DeepLabV2Options } from './model.js';

export { DeepLabV2, ASPPv2, type DeepLabV2Options } from './model.js';

registerModel({
  name: 'deeplabv2',
  paper:
    'Chen et al. 2017, DeepLab: Semantic Image Segmentation with Deep Convolutional Nets, Atrous Convolution, and Fully Connected CRFs (TPAMI)',
  create: (options) => new DeepLabV2(options as DeepLabV2Options),
});
