// Encoders by name (`resnet34`, `efficientnet-b4`, ...). Families register themselves from
// their own files; createEncoder builds one, adapts inChannels and dilates it.
import type { Encoder, EncoderOptions, EncoderSpec } from './base.js';
import { patchFirstConv } from './patch.js';
import { loadEncoderWeights } from './weights.js';

const specs = new Map<string, EncoderSpec>();

export function registerEncoder(spec: EncoderSpec): void {
  if (specs.has(spec.name)) throw new Error(`encoder '${spec.name}' is registered twice`);
  specs.set(spec.name, spec);
}

export function listEncoders(): string[] {
  return [...specs.keys()];
}

export function getEncoderSpec(name: string): EncoderSpec {
  const spec = typeof name === 'string' ? specs.get(name) : undefined;
  if (!spec) {
    throw new Error(`unknown encoder ${JSON.stringify(name)}; available: ${listEncoders().join(', ')}`);
  }
  return spec;
}

/**
 * Builds an encoder: depth (default 5), inChannels (default 3), outputStride (default 32),
 * weights (null, 'imagenet' or a file). As smp: the RGB weights load first, then the first
 * conv is adapted to inChannels, then the last stages are dilated.
 */
export function createEncoder(name: string, options: EncoderOptions & { weights?: string | null } = {}): Encoder {
  const spec = getEncoderSpec(name);
  const depth = options.depth ?? 5;
  const inChannels = options.inChannels ?? 3;
  const outputStride = options.outputStride ?? 32;
  if (!Number.isInteger(inChannels) || inChannels < 1) {
    throw new RangeError(`encoder ${name}: inChannels must be a positive integer, got ${inChannels}`);
  }
  if (outputStride !== 32 && !spec.dilations.includes(outputStride)) {
    throw new RangeError(`encoder ${name}: outputStride must be 32${spec.dilations.map((d) => ` or ${d}`).join('')}, got ${outputStride}`);
  }
  const encoder = spec.create({ depth, inChannels: 3 });
  if (options.weights) {
    try {
      loadEncoderWeights(encoder, spec, options.weights);
    } catch (e) {
      encoder.dispose();
      throw e;
    }
  }
  if (inChannels !== 3) patchFirstConv(encoder, inChannels);
  if (outputStride !== 32) encoder.makeDilated(outputStride as 8 | 16);
  return encoder;
}
