// Encoders by name (`resnet34`, `efficientnet-b4`, ...). Families register themselves from
// their own files; createEncoder builds one, adapts inChannels and dilates it.
import { checkChoice, readOptions } from '../../validate.js';
import type { Encoder, EncoderOptions, EncoderSpec } from './base.js';
import { patchFirstConv } from './patch.js';
import { loadEncoderWeights } from './weights.js';

const specs = new Map<string, EncoderSpec>();

const SPEC_KEYS = ['name', 'source', 'create', 'imagenet', 'dilations', 'remapWeights'] as const;

export function registerEncoder(spec: EncoderSpec): void {
  const o = readOptions('registerEncoder', spec, SPEC_KEYS);
  o.string('name');
  o.custom('create', undefined, (v) => typeof v === 'function', 'a function');
  o.custom(
    'dilations',
    undefined,
    (v) => Array.isArray(v) && v.every((d) => d === 16 || d === 8),
    'an array of the output strides 16 and 8 it supports',
  );
  if (specs.has(spec.name)) throw new Error(`encoder '${spec.name}' is registered twice`);
  specs.set(spec.name, spec);
}

export function listEncoders(): string[] {
  return [...specs.keys()];
}

/** The spec of a registered encoder; any other name is a TypeError listing the registered ones. */
export function getEncoderSpec(name: string, where = 'getEncoderSpec'): EncoderSpec {
  return specs.get(checkChoice(where, 'name', name, listEncoders()))!;
}

const CREATE_KEYS = ['depth', 'inChannels', 'outputStride', 'weights'] as const;

/**
 * Builds an encoder: depth (default 5), inChannels (default 3), outputStride (default 32),
 * weights (null, 'imagenet' or a file). As smp: the RGB weights load first, then the first
 * conv is adapted to inChannels, then the last stages are dilated.
 */
export function createEncoder(name: string, options: EncoderOptions & { weights?: string | null } = {}): Encoder {
  const spec = getEncoderSpec(name, 'createEncoder');
  const o = readOptions(`createEncoder('${name}')`, options, CREATE_KEYS);
  const depth = o.int('depth', 5, { min: 1, max: 5 });
  const inChannels = o.int('inChannels', 3);
  const outputStride = o.choice('outputStride', [32, ...spec.dilations], 32);
  const weights = o.custom<string | null>('weights', null, (v) => v === null || typeof v === 'string', "null, 'imagenet' or a file path");
  const encoder = spec.create({ depth, inChannels: 3 });
  if (weights) {
    try {
      loadEncoderWeights(encoder, spec, weights);
    } catch (e) {
      encoder.dispose();
      throw e;
    }
  }
  if (inChannels !== 3) patchFirstConv(encoder, inChannels);
  if (outputStride !== 32) encoder.makeDilated(outputStride as 8 | 16);
  return encoder;
}
