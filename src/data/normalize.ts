// Decoded samples to the float32 a network takes: first scaling to [0, 1] (divide 8-bit by 255, or
// a per-band percentile stretch for 16-bit and float rasters), then the encoder's mean/std. Both
// are plain JSON so that a checkpoint records them and prediction applies exactly the same.
import { getEncoderSpec } from '../models/index.js';
import { checkChoice, checkFinite, invalidParameterError, is, outOfRangeError, show } from '../validate.js';
import type { DecodedImage } from './decode.js';

/** How samples become [0, 1]: `divide` (x / by) or a per-band `stretch` ((x - low) / (high - low)); both clip to [0, 1]. */
export type Scaling = { kind: 'divide'; by: number } | { kind: 'stretch'; low: number[]; high: number[] };

/** Per-channel mean and std applied after scaling: (x - mean) / std. */
export interface Normalization {
  mean: number[];
  std: number[];
}

/**
 * The scaling an image of `bitDepth` needs without statistics: 8-bit divides by 255. 16-bit and
 * float rasters span only part of their range (a 16-bit satellite band of 54..6615), so dividing
 * by 65535 would squash them: they need band statistics, and this throws saying how to get them.
 */
export function defaultScaling(bitDepth: number): Scaling {
  const depth = checkChoice('defaultScaling', 'bitDepth', bitDepth, [8, 16, 32]);
  if (depth === 8) return { kind: 'divide', by: 255 };
  throw new Error(
    `defaultScaling: ${depth === 16 ? '16-bit' : 'float'} images need band statistics to scale to [0, 1]: run \`segkit data stats\` ` +
      `(or BandStats and stretchFromStats) and pass its stretch as scale, or pass scale yourself ({ kind: 'divide', by: ${depth === 16 ? 65535 : 1} } or { kind: 'stretch', low, high })`,
  );
}

/** Checks a Scaling (from a caller or a checkpoint); `channels` fixes the stretch's length. Returns it. */
export function checkScaling(where: string, scaling: unknown, channels?: number): Scaling {
  if (!is.object(scaling))
    throw invalidParameterError(where, 'scaling', "{ kind: 'divide', by } or { kind: 'stretch', low, high }", scaling);
  const kind = checkChoice(where, 'scaling.kind', scaling.kind, ['divide', 'stretch'] as const);
  const allowed = kind === 'divide' ? ['kind', 'by'] : ['kind', 'low', 'high'];
  const extra = Object.keys(scaling).find((k) => !allowed.includes(k));
  if (extra !== undefined)
    throw new TypeError(`${where}: scaling: unknown key '${extra}' for kind '${kind}' (known: ${allowed.join(', ')})`);
  if (kind === 'divide') {
    checkFinite(where, 'scaling.by', scaling.by, { min: 0, exclusive: 'min' });
    return scaling as Scaling;
  }
  const { low, high } = scaling as { low: unknown; high: unknown };
  const n = channels ?? (Array.isArray(low) ? low.length : 0);
  for (const [name, v] of [
    ['low', low],
    ['high', high],
  ] as const) {
    if (!Array.isArray(v) || !v.every((x) => typeof x === 'number' && Number.isFinite(x)))
      throw invalidParameterError(where, `scaling.${name}`, 'an array of finite numbers, one per band', v);
    if (v.length !== n || n === 0)
      throw outOfRangeError(where, `scaling.${name}`, `an array of ${n || 'one or more'} numbers (one per band)`, v);
  }
  const lo = low as number[];
  const hi = high as number[];
  const bad = lo.findIndex((l, c) => !(hi[c]! > l));
  if (bad >= 0) throw outOfRangeError(where, `scaling.high[${bad}]`, `> scaling.low[${bad}] = ${lo[bad]}`, hi[bad]);
  return scaling as Scaling;
}

/**
 * Scales a decoded image to float32 planar [C, H, W] in [0, 1] (clipped), writing into `out`
 * when given. Invalid pixels (image.valid 0) and NaN samples become 0.
 */
export function scaleToFloat(image: DecodedImage, scaling: Scaling, out?: Float32Array): Float32Array {
  const where = 'scaleToFloat';
  if (!is.object(image) || !ArrayBuffer.isView(image.data))
    throw invalidParameterError(where, 'image', 'a DecodedImage (from decodeImage)', image);
  const { data, channels, height, width, valid } = image;
  const n = height * width;
  if (data.length !== channels * n)
    throw outOfRangeError(where, 'image.data.length', `channels x height x width = ${channels * n}`, data.length);
  if (valid !== null && valid.length !== n) throw outOfRangeError(where, 'image.valid.length', `height x width = ${n}`, valid.length);
  const s = checkScaling(where, scaling, channels);
  if (out !== undefined) {
    if (!(out instanceof Float32Array)) throw invalidParameterError(where, 'out', `a Float32Array of ${channels * n}`, out);
    if (out.length !== channels * n)
      throw outOfRangeError(where, 'out.length', `${channels * n} (${channels}x${height}x${width})`, out.length);
  }
  const result = out ?? new Float32Array(channels * n);
  const lut = data instanceof Uint8Array ? new Float32Array(256) : null;
  for (let c = 0; c < channels; c++) {
    const low = s.kind === 'divide' ? 0 : s.low[c]!;
    const range = s.kind === 'divide' ? s.by : s.high[c]! - low;
    const at = c * n;
    if (lut !== null) {
      // 8-bit: 256 divisions instead of one per pixel, same values.
      for (let v = 0; v < 256; v++) lut[v] = unit((v - low) / range);
      for (let i = 0; i < n; i++) result[at + i] = lut[data[at + i]!]!;
    } else for (let i = 0; i < n; i++) result[at + i] = unit((data[at + i]! - low) / range);
    if (valid !== null) for (let i = 0; i < n; i++) if (valid[i] === 0) result[at + i] = 0;
  }
  return result;
}

/** t clipped to [0, 1], NaN to 0 (one comparison catches both t < 0 and NaN). */
function unit(t: number): number {
  return t >= 0 ? Math.min(t, 1) : 0;
}

/** Checks a Normalization (from a caller or a checkpoint); `channels` fixes its length. Returns it. */
export function checkNormalization(where: string, normalization: unknown, channels?: number): Normalization {
  if (!is.object(normalization)) throw invalidParameterError(where, 'normalization', '{ mean: number[], std: number[] }', normalization);
  const { mean, std } = normalization as { mean: unknown; std: unknown };
  const n = channels ?? (Array.isArray(mean) ? mean.length : 0);
  for (const [name, v] of [
    ['mean', mean],
    ['std', std],
  ] as const) {
    if (!Array.isArray(v) || !v.every((x) => typeof x === 'number' && Number.isFinite(x)))
      throw invalidParameterError(where, `normalization.${name}`, 'an array of finite numbers, one per channel', v);
    if (v.length !== n || n === 0)
      throw outOfRangeError(where, `normalization.${name}`, `an array of ${n || 'one or more'} numbers (one per channel)`, v);
  }
  const bad = (std as number[]).findIndex((x) => !(x > 0));
  if (bad >= 0) throw outOfRangeError(where, `normalization.std[${bad}]`, 'a positive number', (std as number[])[bad]);
  return normalization as unknown as Normalization;
}

/**
 * (x - mean[c]) / std[c] in place over planar [C, H, W] float data (C = mean.length). Pixels
 * where `valid` is 0 are set to 0 afterwards, so nodata reads as the dataset mean.
 */
export function normalizeInPlace(data: Float32Array, normalization: Normalization, valid?: Uint8Array | null): Float32Array {
  const where = 'normalizeInPlace';
  if (!(data instanceof Float32Array)) throw invalidParameterError(where, 'data', 'a Float32Array (planar [C, H, W])', data);
  const { mean, std } = checkNormalization(where, normalization);
  const c = mean.length;
  if (data.length % c !== 0)
    throw outOfRangeError(where, 'data.length', `a multiple of the ${c} channels of the normalization`, data.length);
  const n = data.length / c;
  if (valid != null && valid.length !== n) throw outOfRangeError(where, 'valid.length', `${n} (data.length / channels)`, valid.length);
  for (let k = 0; k < c; k++) {
    const m = mean[k]!;
    const sd = std[k]!;
    const at = k * n;
    for (let i = 0; i < n; i++) data[at + i] = (data[at + i]! - m) / sd;
    if (valid != null) for (let i = 0; i < n; i++) if (valid[i] === 0) data[at + i] = 0;
  }
  return data;
}

/**
 * The mean and std an encoder's pretrained weights expect, from segkit's encoder registry (smp's
 * get_preprocessing_params). `weights` is 'imagenet', the only pretrained weights the registry
 * describes. An unknown encoder is a TypeError listing the known ones.
 */
export function encoderNormalization(encoderName: string, weights = 'imagenet'): Normalization {
  const where = 'encoderNormalization';
  const spec = getEncoderSpec(encoderName, where);
  checkChoice(where, 'weights', weights, ['imagenet']);
  if (!spec.imagenet)
    throw new Error(
      `${where}: encoder ${show(encoderName)} has no 'imagenet' weights, so no pretrained mean/std: pass a normalization yourself (for example from BandStats)`,
    );
  return { mean: [...spec.imagenet.mean], std: [...spec.imagenet.std] };
}
