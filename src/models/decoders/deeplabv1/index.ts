// DeepLab v1, the LargeFOV variant (Chen et al. 2015), registered as 'deeplabv1'.
import { registerModel } from '../../registry.js';
import { DeepLabV1, type DeepLabV1Options } from './model.js';

export { DeepLabV1, type DeepLabV1Options } from './model.js';
export { LargeFOV } from './decoder.js';

registerModel({
  name: 'deeplabv1',
  paper: 'Chen et al. 2015, Semantic Image Segmentation with Deep Convolutional Nets and Fully Connected CRFs (DeepLab-LargeFOV)',
  create: (options) => new DeepLabV1(options as DeepLabV1Options),
});
