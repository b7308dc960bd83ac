// FCN on a dilated ResNet as torchvision builds it (fcn_resnet50/101), registered as 'fcn'.
// The VGG FCNs of the paper (fcn32s/16s/8s) live in ../fcn/.
import { registerModel } from '../../registry.js';
import { FCNResNet, type TorchvisionModelOptions } from './model.js';

export { FCNResNet, FCNHead, TorchvisionSegmentationModel, type TorchvisionModelOptions } from './model.js';
export { SimpleSegmentationModel } from '../common/simple.js';
export { dilateTorchvision, createDilatedBackbone } from './backbone.js';

registerModel({
  name: 'fcn',
  paper: 'Long et al. 2015, Fully Convolutional Networks for Semantic Segmentation (CVPR); torchvision fcn_resnet50 layout',
  create: (options) => new FCNResNet(options as TorchvisionModelOptions),
});
