// Run-length encoding of binary masks, as the Tianchi 地表建筑物识别 competition and Kaggle's
// segmentation competitions write them: "start length start length ...", starts 1-based, pixels
// numbered column-major (down the first column, then the next), so that a mask stored row-major
// [height, width] in memory is walked transposed. An empty string is an empty mask.
//
// The reference is the competition baseline's numpy code:
//   pixels = np.concatenate([[0], img.flatten(order='F'), [0]])
//   runs = np.where(pixels[1:] != pixels[:-1])[0] + 1; runs[1::2] -= runs[::2]
// Pure TypeScript (no torch), so a submission writer or a CSV reader can use it on its own.
import { checkIntList, invalidParameterError, outOfRangeError } from './validate.js';

function checkShape(where: string, shape: unknown): [number, number] {
  const [h, w] = checkIntList(where, 'shape', shape, { length: 2, min: 1, why: '[height, width]' });
  return [h!, w!];
}

/**
 * Encodes a binary mask (row-major [height, width]; any nonzero value is foreground) as RLE runs
 * "start length ..." with 1-based column-major starts. An empty mask gives ''.
 */
export function encode(mask: ArrayLike<number>, shape: readonly [number, number]): string {
  const where = 'rle.encode';
  const [h, w] = checkShape(where, shape);
  if (mask === null || typeof mask !== 'object' || typeof mask.length !== 'number')
    throw invalidParameterError(where, 'mask', 'an array or typed array of numbers', mask);
  if (mask.length !== h * w) throw outOfRangeError(where, 'mask.length', `${h * w} (height ${h} x width ${w})`, mask.length);
  const runs: number[] = [];
  let start = -1; // 0-based column-major index where the open run began, -1 when none is open
  let p = 0;
  for (let x = 0; x < w; x++) {
    for (let i = x, end = x + h * w; i < end; i += w, p++) {
      if (mask[i] !== 0) {
        if (start < 0) start = p;
      } else if (start >= 0) {
        runs.push(start + 1, p - start);
        start = -1;
      }
    }
  }
  if (start >= 0) runs.push(start + 1, p - start);
  return runs.join(' ');
}

const SPACE = 32;
const ZERO = 48;
const NINE = 57;
const MINUS = 45;

function isSpace(c: number): boolean {
  return c === SPACE || (c >= 9 && c <= 13);
}

/** The whitespace-separated field at `from`, for an error message. */
function fieldAt(rle: string, from: number): string {
  let to = from;
  while (to < rle.length && !isSpace(rle.charCodeAt(to))) to++;
  return rle.slice(from, to);
}

/**
 * Decodes RLE runs "start length ..." (1-based, column-major starts) into a row-major [height,
 * width] mask of 0 and 1, written into `out` when given (it is cleared first). Runs must be
 * integers, sorted and non-overlapping, and inside the mask; an empty or blank string is an empty
 * mask. Errors name the run (0-based) and the value.
 */
export function decode(rle: string, shape: readonly [number, number], out?: Uint8Array): Uint8Array {
  const where = 'rle.decode';
  if (typeof rle !== 'string') throw invalidParameterError(where, 'rle', "a string of runs 'start length ...'", rle);
  const [h, w] = checkShape(where, shape);
  const n = h * w;
  if (out !== undefined) {
    if (!(out instanceof Uint8Array)) throw invalidParameterError(where, 'out', `a Uint8Array of ${n}`, out);
    if (out.length !== n) throw outOfRangeError(where, 'out.length', `${n} (height ${h} x width ${w})`, out.length);
    out.fill(0);
  }
  const mask = out ?? new Uint8Array(n);
  let field = 0; // fields read so far: even ones are starts, odd ones lengths
  let start = 0;
  let prevEnd = 0; // 0-based end (exclusive) of the previous run
  const len = rle.length;
  let i = 0;
  for (;;) {
    while (i < len && isSpace(rle.charCodeAt(i))) i++;
    if (i >= len) break;
    const from = i;
    const negative = rle.charCodeAt(i) === MINUS;
    if (negative) i++;
    let v = 0;
    for (; i < len; i++) {
      const c = rle.charCodeAt(i);
      if (c < ZERO || c > NINE) break;
      v = v * 10 + (c - ZERO);
    }
    const run = field >> 1;
    if (i === from + (negative ? 1 : 0) || (i < len && !isSpace(rle.charCodeAt(i)))) {
      const name = `run ${run} ${field & 1 ? 'length' : 'start'}`;
      throw invalidParameterError(where, name, 'an integer written in digits', fieldAt(rle, from));
    }
    if (negative) v = -v;
    if ((field & 1) === 0) {
      if (v < 1 || v > n) throw outOfRangeError(where, `run ${run} start`, `an integer from 1 to ${n} (1-based, in a ${h}x${w} mask)`, v);
      start = v - 1;
      if (start < prevEnd)
        throw outOfRangeError(
          where,
          `run ${run} start`,
          `> ${prevEnd} (runs must be sorted and must not overlap: run ${run - 1} ends at pixel ${prevEnd})`,
          v,
        );
    } else {
      if (v < 1) throw outOfRangeError(where, `run ${run} length`, 'an integer >= 1', v);
      const end = start + v;
      if (end > n)
        throw outOfRangeError(
          where,
          `run ${run} length`,
          `<= ${n - start} (run ${run} starts at ${start + 1} in a ${h}x${w} mask of ${n} pixels)`,
          v,
        );
      fillRun(mask, start, end, h, w);
      prevEnd = end;
    }
    field++;
  }
  if (field & 1)
    throw new RangeError(
      `${where}: rle must be pairs of 'start length' (an even number of fields), got ${field} fields: run ${field >> 1} (start ${start + 1}) has no length`,
    );
  return mask;
}

/** Sets column-major pixels [start, end) of a row-major [h, w] mask. */
function fillRun(mask: Uint8Array, start: number, end: number, h: number, w: number): void {
  let x = Math.floor(start / h);
  let y = start - x * h;
  let i = y * w + x;
  for (let p = start; p < end; p++) {
    mask[i] = 1;
    if (++y === h) {
      y = 0;
      x++;
      i = x;
    } else i += w;
  }
}
