// PadIfNeeded: grows images to a minimum size or to a multiple of a divisor. Padded mask pixels
// are ignoreIndex under the 'constant' border, so a loss skips what no image pixel backs.
import { F, torch, type Tensor } from '../../torch/index.js';
import { invalidParameterError, readOptions } from '../../validate.js';
import { DEFAULT_IGNORE_INDEX, type Batch } from '../dataset.js';
import type { Random } from '../random.js';
import { readP } from './options.js';
import { borderIndex, remap, type BorderMode } from './remap.js';
import { BatchTransform, mapMeta, replaceBatch, type BatchShape } from './transform.js';

export type PadPosition = 'center' | 'top_left' | 'top_right' | 'bottom_left' | 'bottom_right' | 'random';
const POSITIONS: readonly PadPosition[] = ['center', 'top_left', 'top_right', 'bottom_left', 'bottom_right', 'random'];
const BORDER_MODES: readonly BorderMode[] = ['constant', 'replicate', 'reflect', 'reflect101', 'wrap'];

export interface PadIfNeededOptions {
  /** Pad to at least this height (default 1024, as albumentations); exclusive with padHeightDivisor. */
  minHeight?: number;
  /** Pad to at least this width (default 1024); exclusive with padWidthDivisor. */
  minWidth?: number;
  /** Pad the height up to a multiple of this. */
  padHeightDivisor?: number;
  /** Pad the width up to a multiple of this. */
  padWidthDivisor?: number;
  /** Where the image sits in the padded frame (default 'center'; 'random' draws per sample). */
  position?: PadPosition;
  /** OpenCV border mode (default 'constant', as albumentations 2). */
  borderMode?: BorderMode;
  /** Image value of 'constant' padding (default 0). */
  fill?: number;
  /** Mask value of 'constant' padding (default 255, DEFAULT_IGNORE_INDEX). */
  ignoreIndex?: number;
  p?: number;
}

/** [top, left] offsets of the image in the padded frame. */
type Offsets = [number, number];

/** albumentations' get_dimension_padding: [before, after]. */
function dimensionPadding(size: number, min: number | null, divisor: number | null): [number, number] {
  if (min !== null) {
    if (size >= min) return [0, 0];
    const before = Math.floor((min - size) / 2);
    return [before, min - size - before];
  }
  const rest = size % divisor!;
  if (rest === 0) return [0, 0];
  const total = divisor! - rest;
  return [Math.floor(total / 2), total - Math.floor(total / 2)];
}

/**
 * Pads each image to at least minHeight x minWidth (or to multiples of the divisors), as
 * albumentations' PadIfNeeded (p = 1, border 'constant', position 'center' by default). The
 * image gets `fill` and the mask `ignoreIndex` in 'constant' padding; the other border modes
 * mirror or repeat image and mask alike.
 */
export class PadIfNeeded extends BatchTransform<Offsets> {
  readonly minHeight: number | null;
  readonly minWidth: number | null;
  readonly padHeightDivisor: number | null;
  readonly padWidthDivisor: number | null;
  readonly position: PadPosition;
  readonly borderMode: BorderMode;
  readonly fill: number;
  readonly ignoreIndex: number;

  constructor(options?: PadIfNeededOptions) {
    const where = 'PadIfNeeded';
    const o = readOptions(where, options, [
      'minHeight',
      'minWidth',
      'padHeightDivisor',
      'padWidthDivisor',
      'position',
      'borderMode',
      'fill',
      'ignoreIndex',
      'p',
    ]);
    super(where, readP(o, 1));
    for (const [min, div] of [
      ['minHeight', 'padHeightDivisor'],
      ['minWidth', 'padWidthDivisor'],
    ] as const) {
      if (o.has(min) && o.has(div))
        throw invalidParameterError(where, div, `absent when ${min} is given (one of them sets the size)`, o.get(div));
    }
    this.padHeightDivisor = o.has('padHeightDivisor') ? o.int('padHeightDivisor') : null;
    this.padWidthDivisor = o.has('padWidthDivisor') ? o.int('padWidthDivisor') : null;
    this.minHeight = this.padHeightDivisor === null ? o.int('minHeight', 1024) : null;
    this.minWidth = this.padWidthDivisor === null ? o.int('minWidth', 1024) : null;
    this.position = o.choice('position', POSITIONS, 'center');
    this.borderMode = o.choice('borderMode', BORDER_MODES, 'constant');
    this.fill = o.number('fill', 0);
    this.ignoreIndex = o.int('ignoreIndex', DEFAULT_IGNORE_INDEX, {});
  }

  private padding(height: number, width: number): [number, number, number, number] {
    const [top, bottom] = dimensionPadding(height, this.minHeight, this.padHeightDivisor);
    const [left, right] = dimensionPadding(width, this.minWidth, this.padWidthDivisor);
    return [top, bottom, left, right];
  }

  override outputSize(height: number, width: number): [number, number] {
    const [top, bottom, left, right] = this.padding(height, width);
    return [height + top + bottom, width + left + right];
  }

  protected draw(random: Random, shape: BatchShape): Offsets {
    const [top, bottom, left, right] = this.padding(shape.height, shape.width);
    const dh = top + bottom;
    const dw = left + right;
    switch (this.position) {
      case 'center':
        return [top, left];
      case 'top_left':
        return [0, 0];
      case 'top_right':
        return [0, dw];
      case 'bottom_left':
        return [dh, 0];
      case 'bottom_right':
        return [dh, dw];
      case 'random':
        return [random.int(dh + 1), random.int(dw + 1)];
    }
  }

  protected transform(batch: Batch, params: readonly (Offsets | undefined)[], shape: BatchShape): Batch {
    const [oh, ow] = this.outputSize(shape.height, shape.width);
    const offsets = params.map((o) => o ?? ([0, 0] as Offsets));
    const [top, left] = offsets[0]!;
    const uniform = offsets.every(([t, l]) => t === top && l === left);
    const meta = batch.meta.map((m, i) => mapMeta(m, [1, 0, -offsets[i]![1], 0, 1, -offsets[i]![0]], ow, oh));
    // One F.pad for the whole batch where PyTorch has the border (its 'reflect' is OpenCV's reflect101).
    const torchMode = { constant: 'constant', replicate: 'replicate', reflect101: 'reflect', reflect: null, wrap: null }[this.borderMode];
    const [bottom, right] = [oh - shape.height - top, ow - shape.width - left];
    const fits = this.borderMode !== 'reflect101' || (Math.max(top, bottom) < shape.height && Math.max(left, right) < shape.width);
    if (uniform && torchMode !== null && fits) {
      const pads = [left, right, top, bottom];
      const pad = (t: Tensor, value: number): Tensor =>
        torch.tidy(() => {
          if (torchMode === 'constant') return F.pad(t, pads, { mode: 'constant', value });
          // PyTorch's reflect and replicate pads want a batch and channel dimension.
          const x = t.ndim === 3 ? t.unsqueeze(1) : t;
          const padded = F.pad(x.dtype === 'int64' ? x.double() : x, pads, { mode: torchMode as 'reflect' | 'replicate' });
          const back = x.dtype === 'int64' ? padded.long() : padded;
          return t.ndim === 3 ? back.squeeze(1) : back;
        });
      return replaceBatch(batch, pad(batch.image, this.fill), pad(batch.mask, this.ignoreIndex), meta);
    }
    return this.padByIndex(batch, offsets, shape, oh, ow, meta);
  }

  /** Per-sample offsets or OpenCV-only borders: an index map per sample (see remap). */
  private padByIndex(batch: Batch, offsets: readonly Offsets[], shape: BatchShape, oh: number, ow: number, meta: Batch['meta']): Batch {
    const rows = new Int32Array(shape.n * oh);
    const cols = new Int32Array(shape.n * ow);
    const rowValid = new Uint8Array(shape.n * oh);
    const colValid = new Uint8Array(shape.n * ow);
    offsets.forEach(([top, left], i) => {
      for (let y = 0; y < oh; y++) {
        const r = borderIndex(y - top, shape.height, this.borderMode);
        rows[i * oh + y] = Math.max(r, 0);
        rowValid[i * oh + y] = r >= 0 ? 1 : 0;
      }
      for (let x = 0; x < ow; x++) {
        const c = borderIndex(x - left, shape.width, this.borderMode);
        cols[i * ow + x] = Math.max(c, 0);
        colValid[i * ow + x] = c >= 0 ? 1 : 0;
      }
    });
    let image = remap(batch.image, rows, cols, oh, ow);
    let mask = remap(batch.mask, rows, cols, oh, ow);
    if (this.borderMode === 'constant') {
      const filled = torch.tidy(() => {
        const r = torch.tensor(rowValid, { shape: [shape.n, 1, oh, 1] }).bool();
        const c = torch.tensor(colValid, { shape: [shape.n, 1, 1, ow] }).bool();
        const valid = r.logicalAnd(c);
        const maskValid = mask.ndim === 3 ? valid.squeeze(1) : valid;
        return [image.where(valid, this.fill), mask.where(maskValid, this.ignoreIndex)];
      });
      image.dispose();
      mask.dispose();
      [image, mask] = filled as [Tensor, Tensor];
    }
    return replaceBatch(batch, image, mask, meta);
  }
}
