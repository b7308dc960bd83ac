// Crops: a window of each sample, the same window for image and mask. RandomResizedCrop
// resizes its window with the image interpolated and the mask by nearest neighbour.
import { F, torch, type Tensor } from '../../torch/index.js';
import { readOptions } from '../../validate.js';
import type { Batch } from '../dataset.js';
import type { Random } from '../random.js';
import { readP, readRange, uniform, type Range } from './options.js';
import { nearestIndices, remap } from './remap.js';
import { BatchTransform, mapMeta, replaceBatch, restack, type BatchShape } from './transform.js';

/** A crop window: rows [y, y + height), columns [x, x + width). */
interface Box {
  y: number;
  x: number;
  height: number;
  width: number;
}

function checkFits(name: string, shape: BatchShape, height: number, width: number): void {
  if (height > shape.height || width > shape.width) {
    throw new RangeError(
      `${name}: the crop ${height}x${width} (height x width) is larger than the images, ${shape.height}x${shape.width}; pad first (PadIfNeeded)`,
    );
  }
}

/** Crops each sample to its box (all boxes of one size); unpicked samples take `fallback`. */
function cropBatch(batch: Batch, boxes: readonly (Box | undefined)[], fallback: Box): Batch {
  const boxOf = (i: number): Box => boxes[i] ?? fallback;
  const first = boxOf(0);
  const same = boxes.every((_, i) => boxOf(i).y === first.y && boxOf(i).x === first.x);
  const cut = (t: Tensor): Tensor =>
    same
      ? torch.tidy(() => t.narrow(-2, first.y, first.height).narrow(-1, first.x, first.width).contiguous())
      : restack(t, (s, i) => s.narrow(-2, boxOf(i).y, first.height).narrow(-1, boxOf(i).x, first.width));
  const image = cut(batch.image);
  const mask = cut(batch.mask);
  const meta = batch.meta.map((m, i) => mapMeta(m, [1, 0, boxOf(i).x, 0, 1, boxOf(i).y], first.width, first.height));
  return replaceBatch(batch, image, mask, meta);
}

const CROP_KEYS = ['height', 'width', 'p'];

/**
 * A window of `height` x `width` at a random place, drawn per sample as albumentations does
 * (y = floor((H - height + 1) u), x likewise; p = 1 by default). Fails on images smaller than
 * the crop.
 */
export class RandomCrop extends BatchTransform<Box> {
  readonly height: number;
  readonly width: number;

  constructor(options: { height: number; width: number; p?: number }) {
    const o = readOptions('RandomCrop', options, CROP_KEYS);
    super('RandomCrop', readP(o, 1));
    this.height = o.int('height');
    this.width = o.int('width');
  }
  override outputSize(): [number, number] {
    return [this.height, this.width];
  }
  protected override check(shape: BatchShape): void {
    checkFits(this.name, shape, this.height, this.width);
  }
  protected draw(random: Random, shape: BatchShape): Box {
    const y = Math.floor((shape.height - this.height + 1) * random.next());
    const x = Math.floor((shape.width - this.width + 1) * random.next());
    return { y, x, height: this.height, width: this.width };
  }
  protected transform(batch: Batch, params: readonly (Box | undefined)[]): Batch {
    return cropBatch(batch, params, { y: 0, x: 0, height: this.height, width: this.width });
  }
}

/** The central `height` x `width` window, at ((H - height) // 2, (W - width) // 2) as albumentations (p = 1 by default). */
export class CenterCrop extends BatchTransform<Box> {
  readonly height: number;
  readonly width: number;

  constructor(options: { height: number; width: number; p?: number }) {
    const o = readOptions('CenterCrop', options, CROP_KEYS);
    super('CenterCrop', readP(o, 1));
    this.height = o.int('height');
    this.width = o.int('width');
  }
  override outputSize(): [number, number] {
    return [this.height, this.width];
  }
  protected override check(shape: BatchShape): void {
    checkFits(this.name, shape, this.height, this.width);
  }
  protected draw(_random: Random, shape: BatchShape): Box {
    return {
      y: Math.floor((shape.height - this.height) / 2),
      x: Math.floor((shape.width - this.width) / 2),
      height: this.height,
      width: this.width,
    };
  }
  protected transform(batch: Batch, params: readonly (Box | undefined)[]): Batch {
    return cropBatch(batch, params, { y: 0, x: 0, height: this.height, width: this.width });
  }
}

/** Interpolation of the image in resizing transforms; the mask always takes the nearest pixel. */
export type ResizeInterpolation = 'bilinear' | 'bicubic' | 'nearest' | 'area';
const RESIZE_INTERPOLATIONS: readonly ResizeInterpolation[] = ['bilinear', 'bicubic', 'nearest', 'area'];

export interface RandomResizedCropOptions {
  /** Output [height, width] (or one number for a square). */
  size: number | [number, number];
  /** Range of the crop's area as a fraction of the image's (default [0.08, 1]). */
  scale?: [number, number];
  /** Range of the crop's width / height, drawn log-uniformly (default [3/4, 4/3]). */
  ratio?: [number, number];
  /** Image interpolation (default 'bilinear', OpenCV's INTER_LINEAR without antialiasing as albumentations). */
  interpolation?: ResizeInterpolation;
  p?: number;
}

/**
 * A random window resized to `size` (albumentations' RandomResizedCrop, torchvision's sampling:
 * 10 tries of area ~ U(scale) and log-ratio ~ U(log ratio), then the central crop of the
 * nearest allowed ratio; p = 1 by default). The image is resized from its window alone (as
 * crop-then-resize: edges replicate inside the window), the mask by nearest neighbour with
 * pixel centres aligned to the image's (see nearestIndices).
 */
export class RandomResizedCrop extends BatchTransform<Box> {
  readonly size: [number, number];
  readonly scale: Range;
  readonly ratio: Range;
  readonly interpolation: ResizeInterpolation;

  constructor(options: RandomResizedCropOptions) {
    const o = readOptions('RandomResizedCrop', options, ['size', 'scale', 'ratio', 'interpolation', 'p']);
    super('RandomResizedCrop', readP(o, 1));
    const size = o.intList('size', undefined, { length: 2, scalar: true, min: 1 });
    this.size = [size[0]!, size[1]!];
    this.scale = readRange(o, 'scale', [0.08, 1], { form: 'pair', min: 0, exclusiveMin: true, max: 1 });
    this.ratio = readRange(o, 'ratio', [3 / 4, 4 / 3], { form: 'pair', min: 0, exclusiveMin: true });
    this.interpolation = o.choice('interpolation', RESIZE_INTERPOLATIONS, 'bilinear');
  }
  override outputSize(): [number, number] {
    return this.size;
  }
  protected draw(random: Random, shape: BatchShape): Box {
    const { height, width } = shape;
    const area = height * width;
    const logRatio: Range = [Math.log(this.ratio[0]), Math.log(this.ratio[1])];
    for (let attempt = 0; attempt < 10; attempt++) {
      const target = uniform(random, [this.scale[0] * area, this.scale[1] * area]);
      const aspect = Math.exp(uniform(random, logRatio));
      const w = pyRound(Math.sqrt(target * aspect));
      const h = pyRound(Math.sqrt(target / aspect));
      if (w > 0 && w <= width && h > 0 && h <= height) {
        const y = Math.floor((height - h + 1) * random.next());
        const x = Math.floor((width - w + 1) * random.next());
        return { y, x, height: h, width: w };
      }
    }
    const inRatio = width / height;
    let w = width;
    let h = height;
    if (inRatio < this.ratio[0]) h = pyRound(width / this.ratio[0]);
    else if (inRatio > this.ratio[1]) w = pyRound(height * this.ratio[1]);
    return { y: Math.floor((height - h) / 2), x: Math.floor((width - w) / 2), height: h, width: w };
  }
  protected transform(batch: Batch, params: readonly (Box | undefined)[], shape: BatchShape): Batch {
    const [oh, ow] = this.size;
    const boxes = params.map((b) => b ?? { y: 0, x: 0, height: shape.height, width: shape.width });
    const rows = new Int32Array(shape.n * oh);
    const cols = new Int32Array(shape.n * ow);
    boxes.forEach((b, i) => {
      nearestIndices(b.y, b.height, oh, rows, i * oh);
      nearestIndices(b.x, b.width, ow, cols, i * ow);
    });
    const mode = this.interpolation;
    const image =
      mode === 'nearest'
        ? remap(batch.image, rows, cols, oh, ow)
        : torch.tidy(() => {
            const parts = boxes.map((b, i) =>
              F.interpolate(batch.image.narrow(0, i, 1).narrow(2, b.y, b.height).narrow(3, b.x, b.width), { size: [oh, ow], mode }),
            );
            const out = torch.cat(parts, 0);
            // Bicubic overshoots at edges; the batch contract keeps images in [0, 1].
            return mode === 'bicubic' ? out.clamp_(0, 1) : out;
          });
    const mask = remap(batch.mask, rows, cols, oh, ow);
    const meta = batch.meta.map((m, i) =>
      mapMeta(m, [boxes[i]!.width / ow, 0, boxes[i]!.x, 0, boxes[i]!.height / oh, boxes[i]!.y], ow, oh),
    );
    return replaceBatch(batch, image, mask, meta);
  }
}

/** Python's round(): halves to even, as albumentations' crop sizes are computed. */
function pyRound(v: number): number {
  const f = Math.floor(v);
  const d = v - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}
