// Sliding windows over an image and the weights that blend their overlaps: each window's
// probabilities fade linearly towards its borders, where a convolutional net sees the least
// context, so seams disappear in the weighted average.
import { checkInt, outOfRangeError } from '../validate.js';

export interface Window {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** The offsets of windows of `size` over `length` with at least `overlap` shared pixels; the last one ends at the edge. */
export function windowStarts(length: number, size: number, overlap: number): number[] {
  if (length <= size) return [0];
  const stride = size - overlap;
  const starts: number[] = [];
  for (let s = 0; s + size < length; s += stride) starts.push(s);
  starts.push(length - size);
  return starts;
}

/** Windows of size x size (or the image's own size where it is smaller) covering width x height, row by row. */
export function slidingWindows(width: number, height: number, size: number, overlap: number): Window[] {
  const where = 'slidingWindows';
  checkInt(where, 'width', width, { min: 1 });
  checkInt(where, 'height', height, { min: 1 });
  checkInt(where, 'size', size, { min: 1 });
  checkInt(where, 'overlap', overlap, { min: 0 });
  if (overlap >= size) throw outOfRangeError(where, 'overlap', `an integer below size (${size})`, overlap);
  const w = Math.min(size, width);
  const h = Math.min(size, height);
  const out: Window[] = [];
  for (const y of windowStarts(height, h, overlap))
    for (const x of windowStarts(width, w, overlap)) out.push({ x, y, width: w, height: h });
  return out;
}

/** 1 in the middle, falling linearly over `ramp` pixels to 1 / (ramp + 1) at each end (never 0: an edge pixel has no other window). */
export function rampWeights(length: number, ramp: number): Float32Array {
  const w = new Float32Array(length);
  const r = Math.min(ramp, Math.floor(length / 2));
  for (let i = 0; i < length; i++) w[i] = Math.min(1, (i + 1) / (r + 1), (length - i) / (r + 1));
  return w;
}

/** The blending weights of a window, [height * width] row-major: the outer product of two ramps. */
export function windowWeights(width: number, height: number, ramp: number): Float32Array {
  const wx = rampWeights(width, ramp);
  const wy = rampWeights(height, ramp);
  const out = new Float32Array(width * height);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) out[y * width + x] = wy[y]! * wx[x]!;
  return out;
}
