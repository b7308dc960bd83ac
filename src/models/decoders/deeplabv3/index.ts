// DeepLab v3 (Chen et al. 2017, arXiv:1706.05587), registered as 'deeplabv3': smp's layout by
// default, torchvision's with `layout: 'torchvision'`.
import type { SegmentationModel } from '../../base.js';
import { registerModel, type ModelOptions } from '../../registry.js';
import { DeepLabV3, type DeepLabV3Options } from './model.js';
import { TorchvisionDeepLabV3, type TorchvisionDeepLabV3Options } from './torchvision.js';
import { choiceOption } from './options.js';

export { DeepLabV3, DeepLabV3Decoder, type DeepLabV3Options } from './model.js';
export { TorchvisionDeepLabV3, DeepLabHead, type TorchvisionDeepLabV3Options } from './torchvision.js';
export { ASPP, ASPPConv, ASPPPooling, SeparableConv2d, type ASPPOptions } from './aspp.js';

/** 'deeplabv3' with `layout: 'smp'` (default, smp's keys) or 'torchvision' (deeplabv3_resnet50's keys). */
export function createDeepLabV3(options: ModelOptions = {}): SegmentationModel {
  const layout = choiceOption('DeepLabV3', 'layout', options.layout, 'smp', ['smp', 'torchvision'] as const);
  return layout === 'torchvision' ? new TorchvisionDeepLabV3(options as TorchvisionDeepLabV3Options) : new DeepLabV3(options as DeepLabV3Options);
}

registerModel({
  name: 'deeplabv3',
  paper: 'Chen et al. 2017, Rethinking Atrous Convolution for Semantic Image Segmentation (arXiv:1706.05587)',
  create: createDeepLabV3,
});
