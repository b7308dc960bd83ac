// FCN-32s, FCN-16s and FCN-8s on VGG16 (Long et al. 2015), registered as 'fcn32s', 'fcn16s'
// and 'fcn8s'. torchvision's FCN on a dilated ResNet is 'fcn' (../fcn-resnet/).
import { registerModel } from '../../registry.js';
import { FCN8s, FCN16s, FCN32s, type FCNOptions } from './model.js';

export { FCN, FCN8s, FCN16s, FCN32s, type FCNOptions } from './model.js';
export { FCNDecoder, type FCNStride } from './decoder.js';

const PAPER = 'Long et al. 2015, Fully Convolutional Networks for Semantic Segmentation';
registerModel({ name: 'fcn32s', paper: `${PAPER} (FCN-32s, VGG16)`, create: (options) => new FCN32s(options as FCNOptions) });
registerModel({ name: 'fcn16s', paper: `${PAPER} (FCN-16s, VGG16)`, create: (options) => new FCN16s(options as FCNOptions) });
registerModel({ name: 'fcn8s', paper: `${PAPER} (FCN-8s, VGG16)`, create: (options) => new FCN8s(options as FCNOptions) });
