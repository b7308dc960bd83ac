// DeepLab v3 (Chen et al. 2017, arXiv:1706.05587), registered as 'deeplabv3': smp's layout by
// default, torchvision's with `layout: 'torchvision'`.
import { registerModel } from '../../registry.js';
import { byVariant } from '../common/options.js';
import { DeepLabV3, type DeepLabV3Options } from './model.js';
import { TorchvisionDeepLabV3, type TorchvisionDeepLabV3Options } from './torchvision.js';

export { DeepLabV3, DeepLabV3Decoder, type DeepLabV3Options } from './model.js';
export { TorchvisionDeepLabV3, DeepLabHead, type TorchvisionDeepLabV3Options } from './torchvision.js';
export { ASPP, ASPPConv, ASPPPooling, SeparableConv2d, type ASPPOptions } from './aspp.js';

registerModel({
  name: 'deeplabv3',
  paper: 'Chen et al. 2017, Rethinking Atrous Convolution for Semantic Image Segmentation (arXiv:1706.05587)',
  create: byVariant('DeepLabV3', 'layout', {
    smp: (o) => new DeepLabV3(o as DeepLabV3Options),
    torchvision: (o) => new TorchvisionDeepLabV3(o as TorchvisionDeepLabV3Options),
  }),
});
