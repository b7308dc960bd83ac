// createDiscriminator('largefov', { encoding: 'product', classes: 1 }): the adversarial networks
// of Luc et al. 2016 by name, as createModel builds segmenters.
import { describeChoices, invalidParameterError, is, readOptions } from '../../validate.js';
import { DESIGNS } from './designs.js';
import { Discriminator } from './discriminator.js';
import { ENCODINGS, type Encoding } from './encoding.js';

export interface CreateDiscriminatorOptions {
  /** How the image and the label map are fed (Luc et al. Sec. 3.2); default 'product'. */
  encoding?: Encoding;
  /** The segmenter's output channels (default 1, a binary model). */
  classes?: number;
  /** The image's bands (default 3). */
  inChannels?: number;
}

export function listDiscriminators(): string[] {
  return Object.keys(DESIGNS);
}

/** An adversarial network by design name: 'stanford' (small, two branches), 'largefov' or 'smallfov'. */
export function createDiscriminator(name: string, options?: CreateDiscriminatorOptions): Discriminator {
  const where = 'createDiscriminator';
  if (typeof name !== 'string' || !Object.hasOwn(DESIGNS, name))
    throw invalidParameterError(where, 'name', describeChoices(listDiscriminators()), name);
  if (options !== undefined && !is.object(options)) throw invalidParameterError(where, 'options', 'an object', options);
  const o = readOptions(where, options, ['encoding', 'classes', 'inChannels']);
  return new Discriminator(name, DESIGNS[name]!, {
    encoding: o.choice('encoding', ENCODINGS, 'product'),
    classes: o.int('classes', 1, { min: 1 }),
    inChannels: o.int('inChannels', 3, { min: 1 }),
  });
}
