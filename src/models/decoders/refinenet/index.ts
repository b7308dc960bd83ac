// RefineNet (Lin et al. 2017), registered as 'refinenet' (default encoder resnet101).
import { registerModel } from '../../registry.js';
import { RefineNet, type RefineNetOptions } from './model.js';

export { RefineNet, type RefineNetOptions } from './model.js';
export { RefineNetDecoder } from './decoder.js';

registerModel({
  name: 'refinenet',
  paper: 'Lin et al. 2017, RefineNet: Multi-Path Refinement Networks for High-Resolution Semantic Segmentation (CVPR)',
  create: (options) => new RefineNet(options as RefineNetOptions),
});
