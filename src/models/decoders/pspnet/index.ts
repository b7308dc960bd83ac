// PSPNet (Zhao et al., CVPR 2017), registered as 'pspnet'. Two variants behind one name:
// - smp's `PSPNet` (default; smp's keys and defaults: encoderDepth 3, undilated, upsampling 8);
// - the paper's network, `PSPNetPaper`: `createModel('pspnet', { variant: 'paper' })`
//   (dilated ResNet-50 at output stride 8, pyramid on res5, auxiliary head on res4 whose loss
//   `model.loss()` adds with weight `auxLossWeight` 0.4; forward returns { mask, aux } in training).
import type { SegmentationModel } from '../../base.js';
import { registerModel, type ModelOptions } from '../../registry.js';
import { choiceOption } from '../deeplabv3/options.js';
import { PSPNetPaper, type PSPNetPaperOptions } from './paper.js';
import { PSPNet, type PSPNetOptions } from './smp.js';

export { PSPNet, PSPDecoder, PSPModule, PSPBlock, type PSPNetOptions } from './smp.js';
export { PSPNetPaper, PyramidPoolingModule, type PSPNetPaperOptions } from './paper.js';

export function createPSPNet(options: ModelOptions = {}): SegmentationModel {
  const variant = choiceOption('PSPNet', 'variant', options.variant, 'smp', ['smp', 'paper'] as const);
  return variant === 'paper' ? new PSPNetPaper(options as PSPNetPaperOptions) : new PSPNet(options as PSPNetOptions);
}

registerModel({
  name: 'pspnet',
  paper: 'Zhao et al. 2017, Pyramid Scene Parsing Network (CVPR)',
  create: createPSPNet,
});
