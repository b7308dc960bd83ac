// PSPNet (Zhao et al., CVPR 2017), registered as 'pspnet'. Two variants behind one name:
// - smp's `PSPNet` (default; smp's keys and defaults: encoderDepth 3, undilated, upsampling 8);
// - the paper's network, `PSPNetPaper`: `createModel('pspnet', { variant: 'paper' })`
//   (dilated ResNet-50 at output stride 8, pyramid on res5, auxiliary head on res4 whose loss
//   `model.loss()` adds with weight `auxLossWeight` 0.4; forward returns { mask, aux } in training).
import { registerModel } from '../../registry.js';
import { byVariant } from '../common/options.js';
import { PSPNetPaper, type PSPNetPaperOptions } from './paper.js';
import { PSPNet, type PSPNetOptions } from './smp.js';

export { PSPNet, PSPDecoder, PSPModule, PSPBlock, type PSPNetOptions } from './smp.js';
export { PSPNetPaper, PyramidPoolingModule, type PSPNetPaperOptions } from './paper.js';

registerModel({
  name: 'pspnet',
  paper: 'Zhao et al. 2017, Pyramid Scene Parsing Network (CVPR)',
  create: byVariant('PSPNet', 'variant', {
    smp: (o) => new PSPNet(o as PSPNetOptions),
    paper: (o) => new PSPNetPaper(o as PSPNetPaperOptions),
  }),
});
