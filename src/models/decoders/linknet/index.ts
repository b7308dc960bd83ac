// smp's Linknet, registered as 'linknet'.
import { registerModel } from '../../registry.js';
import { Linknet, type LinknetOptions } from './model.js';

export { Linknet, type LinknetOptions } from './model.js';
export { LinknetDecoder } from './decoder.js';

registerModel({
  name: 'linknet',
  paper: 'Chaurasia & Culurciello 2017, LinkNet: Exploiting Encoder Representations for Efficient Semantic Segmentation (VCIP), as smp',
  create: (options) => new Linknet(options as LinknetOptions),
});
