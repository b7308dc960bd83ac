// Option checks shared by the architectures in decoders/: every error names the architecture,
// the option, what was expected and what came, and unknown keys are refused (a typo in
// `decoderChanels` would otherwise be ignored silently).
import { createEncoder } from '../../encoders/registry.js';
import type { Encoder } from '../../encoders/base.js';
import type { ActivationOption, AuxParams } from '../../heads.js';
import type { ModelOptions } from '../../registry.js';
import { checkUseNorm, type UseNorm } from './modules.js';

/** The options every architecture takes (smp's encoder_name, encoder_depth, ...). */
export const COMMON_KEYS = ['encoderName', 'encoderDepth', 'encoderWeights', 'inChannels', 'classes', 'activation', 'auxParams'] as const;

export function show(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(show).join(', ')}]`;
  if (v === null) return 'null';
  if (typeof v === 'object') return (v as object).constructor?.name ?? 'object';
  return String(v);
}

/** `show` with strings in single quotes, as the Unet and the paper-era models (FCN, SegNet, ...) print them. */
export function showQuoted(v: unknown): string {
  return typeof v === 'string' ? `'${v}'` : Array.isArray(v) ? `[${v.map(showQuoted).join(', ')}]` : String(v);
}

export const isPositiveInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v > 0;

/** Refuses keys outside `keys`; returns the options object ({} for undefined). */
export function checkKeys<T extends object>(arch: string, options: T | undefined, keys: readonly string[]): T {
  if (options === undefined) return {} as T;
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new TypeError(`${arch}: options must be an object, got ${show(options)}`);
  }
  const unknown = Object.keys(options).filter((k) => !keys.includes(k));
  if (unknown.length > 0) {
    throw new TypeError(`${arch}: unknown option${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => `'${k}'`).join(', ')}; expected one of ${keys.join(', ')}`);
  }
  return options;
}

export function intOption(arch: string, name: string, v: unknown, fallback: number, min = 1, max = Infinity): number {
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    const range = max === Infinity ? (min === 1 ? 'a positive integer' : `an integer >= ${min}`) : `an integer from ${min} to ${max}`;
    throw new (typeof v === 'number' ? RangeError : TypeError)(`${arch}: ${name} must be ${range}, got ${show(v)}`);
  }
  return v;
}

export function probabilityOption(arch: string, name: string, v: unknown, fallback: number): number {
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !(v >= 0 && v <= 1)) {
    throw new (typeof v === 'number' ? RangeError : TypeError)(`${arch}: ${name} must be a number from 0 to 1, got ${show(v)}`);
  }
  return v;
}

export function oneOf<T extends string | number>(arch: string, name: string, v: unknown, allowed: readonly T[], fallback: T): T {
  if (v === undefined) return fallback;
  if (!allowed.includes(v as T)) throw new TypeError(`${arch}: ${name} must be one of ${allowed.map(show).join(', ')}, got ${show(v)}`);
  return v as T;
}

/** A list of `length` positive integers (decoderChannels). */
export function channelsOption(arch: string, name: string, v: unknown, fallback: number[], length: number, why: string): number[] {
  const list = v === undefined ? fallback : v;
  if (!Array.isArray(list) || !list.every((c) => typeof c === 'number' && Number.isInteger(c) && c > 0)) {
    throw new TypeError(`${arch}: ${name} must be an array of positive integers, got ${show(v)}`);
  }
  if (list.length !== length) throw new RangeError(`${arch}: ${name} must have ${length} entries (${why}), got ${list.length}: ${show(list)}`);
  return [...list];
}

/** smp's decoderChannels for the U-Net family: one per block, default the last encoderDepth of [256, 128, 64, 32, 16]. */
export function decoderChannelsOption(arch: string, v: unknown, encoderDepth: number): number[] {
  return channelsOption(arch, 'decoderChannels', v, [256, 128, 64, 32, 16].slice(-encoderDepth),
    encoderDepth, `one per decoder block: encoderDepth is ${encoderDepth}`);
}

export interface CommonOptions {
  encoderName: string;
  encoderDepth: number;
  encoderWeights: string | null;
  inChannels: number;
  classes: number;
  activation: ActivationOption;
  auxParams: AuxParams | null;
}

/** Reads the shared options with smp's defaults (resnet34, depth 5, 3 bands, 1 class), depth limited to [minDepth, 5]. */
export function commonOptions(arch: string, o: ModelOptions, defaults: { encoderName?: string; minDepth?: number } = {}): CommonOptions {
  const encoderName = o.encoderName ?? defaults.encoderName ?? 'resnet34';
  if (typeof encoderName !== 'string') throw new TypeError(`${arch}: encoderName must be a string, got ${show(encoderName)}`);
  const weights = o.encoderWeights ?? null;
  if (weights !== null && typeof weights !== 'string') throw new TypeError(`${arch}: encoderWeights must be null, 'imagenet' or a file path, got ${show(weights)}`);
  const auxParams = o.auxParams ?? null;
  if (auxParams !== null && (typeof auxParams !== 'object' || Array.isArray(auxParams))) {
    throw new TypeError(`${arch}: auxParams must be null or an object, got ${show(auxParams)}`);
  }
  return {
    encoderName,
    encoderDepth: intOption(arch, 'encoderDepth', o.encoderDepth, 5, defaults.minDepth ?? 1, 5),
    encoderWeights: weights,
    inChannels: intOption(arch, 'inChannels', o.inChannels, 3),
    classes: intOption(arch, 'classes', o.classes, 1),
    activation: o.activation ?? null,
    auxParams,
  };
}

export function buildEncoder(c: CommonOptions, outputStride?: 8 | 16 | 32): Encoder {
  return createEncoder(c.encoderName, { depth: c.encoderDepth, inChannels: c.inChannels, weights: c.encoderWeights, outputStride });
}

/** Reads decoderUseNorm or its older alias decoderUseBatchnorm (smp 0.5 still accepts it). */
export function useNormOption(arch: string, o: { decoderUseNorm?: unknown; decoderUseBatchnorm?: unknown }): UseNorm {
  if (o.decoderUseNorm !== undefined && o.decoderUseBatchnorm !== undefined) {
    throw new TypeError(`${arch}: give decoderUseNorm or decoderUseBatchnorm (its older name), not both`);
  }
  if (o.decoderUseBatchnorm !== undefined) return checkUseNorm(`${arch}: decoderUseBatchnorm`, o.decoderUseBatchnorm);
  return o.decoderUseNorm === undefined ? 'batchnorm' : checkUseNorm(`${arch}: decoderUseNorm`, o.decoderUseNorm);
}
