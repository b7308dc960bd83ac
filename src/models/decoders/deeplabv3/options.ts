// Option checks shared by the dilated-ResNet family (DeepLab v2/v3/v3+, PSPNet, FCN-ResNet); their
// COMMON_KEYS is ../common/options.ts's.
// Every error names the model, the option, what was expected and what came, and unknown keys
// are refused so that a Python spelling (`encoder_name`) does not silently fall back to a default.
import type { ModelOptions } from '../../registry.js';

function show(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(show).join(', ')}]`;
  if (v === null) return 'null';
  if (typeof v === 'function') return 'a function';
  if (typeof v === 'object') return 'an object';
  return String(v);
}

export function checkKeys(model: string, options: object, allowed: readonly string[]): void {
  if (options === null || typeof options !== 'object') throw new TypeError(`${model}: options must be an object, got ${show(options)}`);
  const bad = Object.keys(options).filter((k) => !allowed.includes(k) && (options as Record<string, unknown>)[k] !== undefined);
  if (bad.length) throw new TypeError(`${model}: unknown option${bad.length > 1 ? 's' : ''} ${bad.join(', ')}; valid options: ${allowed.join(', ')}`);
}

export function intOption(model: string, name: string, value: unknown, fallback: number, min = 1, max = Infinity): number {
  const v = value ?? fallback;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    const range = max === Infinity ? `an integer >= ${min}` : `an integer from ${min} to ${max}`;
    throw new RangeError(`${model}: ${name} must be ${range}, got ${show(v)}`);
  }
  return v;
}

export function choiceOption<T>(model: string, name: string, value: unknown, fallback: T, choices: readonly T[]): T {
  const v = (value ?? fallback) as T;
  if (!choices.includes(v)) throw new RangeError(`${model}: ${name} must be ${choices.map(show).join(' or ')}, got ${show(v)}`);
  return v;
}

export function probabilityOption(model: string, name: string, value: unknown, fallback: number): number {
  const v = value ?? fallback;
  if (typeof v !== 'number' || !(v >= 0 && v < 1)) throw new RangeError(`${model}: ${name} must be a number in [0, 1), got ${show(v)}`);
  return v;
}

export function numberOption(model: string, name: string, value: unknown, fallback: number): number {
  const v = value ?? fallback;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new RangeError(`${model}: ${name} must be a non-negative number, got ${show(v)}`);
  return v;
}

export function boolOption(model: string, name: string, value: unknown, fallback: boolean): boolean {
  const v = value ?? fallback;
  if (typeof v !== 'boolean') throw new TypeError(`${model}: ${name} must be true or false, got ${show(v)}`);
  return v;
}

/** A list of `count` positive integers (ASPP rates, pyramid bins). */
export function intListOption(model: string, name: string, value: unknown, fallback: readonly number[], count?: number): number[] {
  const v = value ?? fallback;
  const ok = Array.isArray(v) && v.length > 0 && (count === undefined || v.length === count)
    && v.every((r) => typeof r === 'number' && Number.isInteger(r) && r >= 1);
  if (!ok) throw new RangeError(`${model}: ${name} must be ${count === undefined ? 'a list of' : count} positive integers, got ${show(v)}`);
  return [...(v as number[])];
}

/** The final upsampling must bring the decoder's stride back to the input size (segkit's contract). */
export function upsamplingOption(model: string, value: unknown, stride: number, why: string): number {
  const v = value ?? stride;
  if (v !== stride) {
    throw new RangeError(`${model}: upsampling must be ${stride} (${why}) so that the mask has the input's size, got ${show(v)}`);
  }
  return stride;
}

export type { ModelOptions };
