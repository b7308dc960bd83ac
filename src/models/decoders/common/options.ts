// The options every architecture shares (smp's encoder_name, encoder_depth, ..., in camelCase),
// read once through the package's validation module, so every model names itself, the option,
// what was expected and what came in the same words, and refuses unknown keys.
import type { InterpolateMode } from '../../../torch/nn/functional/sampling.js';
import { describeChoices, invalidParameterError, outOfRangeError, readOptions, type OptionReader } from '../../../validate.js';
import type { SegmentationModel } from '../../base.js';
import type { Encoder } from '../../encoders/base.js';
import type { ModelOptions } from '../../registry.js';
import { createEncoder, listEncoders } from '../../encoders/registry.js';
import { checkActivation, checkAuxParams, type ActivationOption, type AuxParams } from '../../heads.js';

/** The options every architecture takes. */
export const COMMON_KEYS = ['encoderName', 'encoderDepth', 'encoderWeights', 'inChannels', 'classes', 'activation', 'auxParams'] as const;

/** The 2-D modes of F.interpolate that smp's decoders accept for their upsampling. */
export const DECODER_INTERPOLATIONS: readonly InterpolateMode[] = ['nearest', 'nearest-exact', 'bilinear', 'bicubic', 'area'];

export interface CommonOptions {
  encoderName: string;
  encoderDepth: number;
  encoderWeights: string | null;
  inChannels: number;
  classes: number;
  activation: ActivationOption;
  auxParams: AuxParams | null;
}

export interface CommonDefaults {
  /** The default encoder (smp's resnet34 unless given). */
  encoderName?: string;
  /** The only encoder the architecture accepts (a paper's fixed network). */
  fixedEncoder?: string;
  /** The architecture has its own contracting path: no encoder options are read. */
  noEncoder?: boolean;
  /** Depth range [minDepth, maxDepth] (default 1..5) and default (5). */
  minDepth?: number;
  maxDepth?: number;
  depth?: number;
}

/**
 * Checks `options` against the common keys plus `extraKeys` and reads the common options with
 * smp's defaults (resnet34, depth 5, 3 bands, 1 class). Returns the reader for the rest.
 */
export function readModelOptions<O extends object>(
  arch: string,
  options: O | undefined,
  extraKeys: readonly string[],
  defaults: CommonDefaults = {},
): { o: OptionReader<O>; c: CommonOptions } {
  const o = readOptions(arch, options, [...COMMON_KEYS, ...extraKeys]);
  return { o, c: commonOptions(o, defaults) };
}

function encoderOptions(
  o: OptionReader<object>,
  defaults: CommonDefaults,
): Pick<CommonOptions, 'encoderName' | 'encoderDepth' | 'encoderWeights'> {
  const fixed = defaults.fixedEncoder;
  const encoderName =
    fixed !== undefined
      ? o.choice('encoderName', [fixed], fixed)
      : o.choice('encoderName', listEncoders(), defaults.encoderName ?? 'resnet34');
  const minDepth = defaults.minDepth ?? 1;
  const maxDepth = defaults.maxDepth ?? 5;
  const encoderDepth =
    minDepth === maxDepth
      ? o.choice('encoderDepth', [minDepth], minDepth)
      : o.int('encoderDepth', defaults.depth ?? maxDepth, { min: minDepth, max: maxDepth });
  const encoderWeights = o.get('encoderWeights') ?? null;
  if (encoderWeights !== null && typeof encoderWeights !== 'string') {
    throw invalidParameterError(o.where, 'encoderWeights', "null, 'imagenet' or a file path", encoderWeights);
  }
  return { encoderName, encoderDepth, encoderWeights };
}

/** The common options from a reader; see readModelOptions. */
export function commonOptions(o: OptionReader<object>, defaults: CommonDefaults = {}): CommonOptions {
  const encoder = defaults.noEncoder ? { encoderName: 'none', encoderDepth: 5, encoderWeights: null } : encoderOptions(o, defaults);
  return {
    ...encoder,
    inChannels: o.int('inChannels', 3),
    classes: o.int('classes', 1),
    activation: checkActivation(o.where, 'activation', o.get('activation')),
    auxParams: checkAuxParams(o.where, o.get('auxParams')),
  };
}

export function buildEncoder(c: CommonOptions, outputStride?: 8 | 16 | 32): Encoder {
  return createEncoder(c.encoderName, { depth: c.encoderDepth, inChannels: c.inChannels, weights: c.encoderWeights, outputStride });
}

/**
 * smp's decoderChannels for the U-Net family: one entry per decoder block. The default is the
 * first encoderDepth entries of [256, 128, 64, 32, 16], as smp's own tests build shallower
 * models (smp itself raises unless the list is given at depth < 5).
 */
export function decoderChannelsOption(o: OptionReader<object>, encoderDepth: number): number[] {
  return o.intList('decoderChannels', [256, 128, 64, 32, 16].slice(0, encoderDepth), {
    min: 1,
    length: encoderDepth,
    why: `one per decoder block: encoderDepth is ${encoderDepth}`,
  });
}

/**
 * The final upsampling factor: it must bring the deepest stride back to the input size, so the
 * mask has the input's size (segkit's contract); the option exists for smp's signature.
 */
export function upsamplingOption(o: OptionReader<object>, stride: number, why: string): number {
  const v = o.get('upsampling') ?? stride;
  if (v !== stride) {
    const expected = `${stride} (${why}) so that the mask has the input's size`;
    throw typeof v === 'number'
      ? outOfRangeError(o.where, 'upsampling', expected, v)
      : invalidParameterError(o.where, 'upsampling', expected, v);
  }
  return stride;
}

/**
 * A variant switch read before the rest of the options (createModel's `layout`, `variant`);
 * `hint` tells where the other variants live.
 */
export function variantOption<T extends string>(where: string, name: string, v: unknown, allowed: readonly T[], fallback: T, hint = ''): T {
  if (v === undefined || allowed.includes(v as T)) return (v ?? fallback) as T;
  throw invalidParameterError(where, name, `${describeChoices(allowed)}${hint ? ` (${hint})` : ''}`, v);
}

/**
 * createModel's builder for an architecture with variants: the option `name` (`layout`,
 * `variant`) picks the class; the first variant is the default.
 */
export function byVariant(
  where: string,
  name: string,
  builders: Record<string, (options: ModelOptions) => SegmentationModel<unknown, unknown>>,
): (options: ModelOptions) => SegmentationModel<unknown, unknown> {
  const names = Object.keys(builders);
  return (options) => builders[variantOption(where, name, options[name], names, names[0]!)]!(options);
}
