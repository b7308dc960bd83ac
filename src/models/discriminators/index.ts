// Adversarial networks for segmentation (Luc et al. 2016): designs, input encodings, createDiscriminator.
export { Discriminator, type DiscriminatorOptions } from './discriminator.js';
export { createDiscriminator, listDiscriminators, type CreateDiscriminatorOptions } from './registry.js';
export { DESIGNS, type DiscriminatorDesign, type LayerSpec } from './designs.js';
export { ENCODINGS, encodeInput, mapChannels, probabilityMap, scaleTruth, truthMap, type Encoding } from './encoding.js';
