// smp's FPN, registered as 'fpn'.
import { registerModel } from '../../registry.js';
import { FPN, type FPNOptions } from './model.js';

export { FPN, type FPNOptions } from './model.js';
export { FPNDecoder, type MergePolicy } from './decoder.js';

registerModel({
  name: 'fpn',
  paper:
    'Lin et al. 2017, Feature Pyramid Networks for Object Detection (CVPR); semantic head of Kirillov et al. 2019 (Panoptic FPN), as smp',
  create: (options) => new FPN(options as FPNOptions),
});
