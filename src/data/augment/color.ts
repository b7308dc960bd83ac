// Colour transforms: the image changes, the mask passes through untouched. Results are clipped
// to [0, 1] where the reference clips.
import { torch, type Tensor } from '../../torch/index.js';
import { readOptions } from '../../validate.js';
import type { Random } from '../random.js';
import { rgbToGrayscale, rgbToHsv, hsvToRgb } from './hsv.js';
import { readP, readRange, uniform, type Range } from './options.js';
import { ImageTransform, onPicked, perSample, type BatchShape } from './transform.js';

function needsRgb(name: string, shape: BatchShape, what: string): void {
  if (shape.channels !== 3 && shape.channels !== 1)
    throw new RangeError(
      `${name}: ${what} needs RGB (3-channel) or grayscale images, got ${shape.channels} channels; leave it out for multispectral images`,
    );
}

const isIdentity = (r: Range, v: number): boolean => r[0] === v && r[1] === v;

export interface RandomBrightnessContrastOptions {
  /** Brightness offset beta ~ U(brightnessLimit) (default 0.2: [-0.2, 0.2]). */
  brightnessLimit?: number | [number, number];
  /** Contrast factor alpha = 1 + U(contrastLimit) (default 0.2: [-0.2, 0.2]). */
  contrastLimit?: number | [number, number];
  /** Brightness adds beta (true, the default) or beta times the image mean (false). */
  brightnessByMax?: boolean;
  p?: number;
}

/**
 * Contrast around the image mean, then brightness: clip((x - mean) alpha + mean + beta) per
 * image, mean over all its pixels and channels (albumentations' RandomBrightnessContrast as its
 * documentation states it; limits 0.2 and 0.2, brightnessByMax true, p = 0.5 by default).
 * Note: albumentations 2.0's code computes clip(alpha x + beta), scaling about 0, so its
 * "contrast" also moves the mean brightness; the documented form changes contrast alone.
 */
export class RandomBrightnessContrast extends ImageTransform<[number, number]> {
  readonly brightnessLimit: Range;
  readonly contrastLimit: Range;
  readonly brightnessByMax: boolean;

  constructor(options?: RandomBrightnessContrastOptions) {
    const o = readOptions('RandomBrightnessContrast', options, ['brightnessLimit', 'contrastLimit', 'brightnessByMax', 'p']);
    super('RandomBrightnessContrast', readP(o, 0.5));
    this.brightnessLimit = readRange(o, 'brightnessLimit', [-0.2, 0.2], { form: 'symmetric' });
    this.contrastLimit = readRange(o, 'contrastLimit', [-0.2, 0.2], { form: 'symmetric', min: -1 });
    this.brightnessByMax = o.bool('brightnessByMax', true);
  }
  protected draw(random: Random): [number, number] {
    const alpha = 1 + uniform(random, this.contrastLimit);
    return [alpha, uniform(random, this.brightnessLimit)];
  }
  protected image(image: Tensor, params: readonly ([number, number] | undefined)[], shape: BatchShape): Tensor {
    const alpha = params.map((q) => q?.[0] ?? 1);
    const beta = params.map((q) => q?.[1] ?? 0);
    return torch.tidy(() => {
      const a = perSample(alpha, [shape.n, 1, 1, 1]);
      const b = perSample(beta, [shape.n, 1, 1, 1]);
      const mean = image.mean({ dim: [1, 2, 3], keepdim: true });
      // x alpha + (mean (1 - alpha) + beta'): one pass; alpha = 1, beta = 0 leaves x exactly.
      const bias = mean.mul(a.rsub(1)).add(this.brightnessByMax ? b : b.mul(mean));
      return torch.addcmul(bias.to({ dtype: image.dtype }), image, a.to({ dtype: image.dtype })).clamp_(0, 1);
    });
  }
}

/**
 * x^gamma with gamma = U(gammaLimit) / 100 per image (albumentations' RandomGamma, default
 * [80, 120], p = 0.5). Images in [0, 1] stay there.
 */
export class RandomGamma extends ImageTransform<number> {
  readonly gammaLimit: Range;

  constructor(options?: { gammaLimit?: [number, number]; p?: number }) {
    const o = readOptions('RandomGamma', options, ['gammaLimit', 'p']);
    super('RandomGamma', readP(o, 0.5));
    this.gammaLimit = readRange(o, 'gammaLimit', [80, 120], { form: 'pair', min: 0, exclusiveMin: true });
  }
  protected draw(random: Random): number {
    return uniform(random, this.gammaLimit) / 100;
  }
  protected image(image: Tensor, params: readonly (number | undefined)[], shape: BatchShape): Tensor {
    return torch.tidy(() =>
      image.pow(
        perSample(
          params.map((g) => g ?? 1),
          [shape.n, 1, 1, 1],
        ).to({ dtype: image.dtype }),
      ),
    );
  }
}

// torchvision's adjust_* on a sub-batch, `f` a [S, 1, 1, 1] factor tensor.
const blend = (a: Tensor, b: Tensor, f: Tensor): Tensor =>
  a
    .mul(f)
    .add(b.mul(f.rsub(1)))
    .clamp_(0, 1);
const JITTER: ((x: Tensor, f: Tensor) => Tensor)[] = [
  (x, f) => x.mul(f).clamp_(0, 1),
  (x, f) => blend(x, (x.shape[1] === 3 ? rgbToGrayscale(x) : x).mean({ dim: [1, 2, 3], keepdim: true }), f),
  (x, f) => (x.shape[1] === 3 ? blend(x, rgbToGrayscale(x), f) : x),
  (x, f) => {
    if (x.shape[1] !== 3) return x;
    const hsv = rgbToHsv(x);
    const h = hsv.narrow(1, 0, 1).add(f).remainder(1);
    return hsvToRgb(torch.cat([h, hsv.narrow(1, 1, 2)], 1));
  },
];

export interface ColorJitterOptions {
  /** Brightness factor range (default [0.8, 1.2]; a number v means [max(0, 1 - v), 1 + v]). */
  brightness?: number | [number, number];
  /** Contrast factor range, blending with the mean grey (default [0.8, 1.2]). */
  contrast?: number | [number, number];
  /** Saturation factor range, blending with the greyscale image (default [0.8, 1.2]). */
  saturation?: number | [number, number];
  /** Hue shift in turns (default [-0.5, 0.5]; a number v means [-v, v], v <= 0.5). */
  hue?: number | [number, number];
  p?: number;
}

interface Jitter {
  factors: [number, number, number, number];
  order: number[];
}

/**
 * torchvision's ColorJitter with albumentations' defaults (brightness, contrast and saturation
 * in [0.8, 1.2], hue in [-0.5, 0.5], p = 0.5): brightness scales, contrast blends with the
 * mean of the greyscale image, saturation blends with the greyscale image, hue rotates through
 * HSV; each clipped to [0, 1], in a random order per image. Grayscale (1-channel) images skip
 * saturation and hue, as both libraries do.
 */
export class ColorJitter extends ImageTransform<Jitter> {
  readonly brightness: Range;
  readonly contrast: Range;
  readonly saturation: Range;
  readonly hue: Range;

  constructor(options?: ColorJitterOptions) {
    const o = readOptions('ColorJitter', options, ['brightness', 'contrast', 'saturation', 'hue', 'p']);
    super('ColorJitter', readP(o, 0.5));
    const factor = { form: 'aroundOne', min: 0 } as const;
    this.brightness = readRange(o, 'brightness', [0.8, 1.2], factor);
    this.contrast = readRange(o, 'contrast', [0.8, 1.2], factor);
    this.saturation = readRange(o, 'saturation', [0.8, 1.2], factor);
    this.hue = readRange(o, 'hue', [-0.5, 0.5], { form: 'symmetric', min: -0.5, max: 0.5 });
  }
  protected override check(shape: BatchShape): void {
    if (!isIdentity(this.saturation, 1) || !isIdentity(this.hue, 0)) needsRgb(this.name, shape, 'saturation and hue');
  }
  protected draw(random: Random): Jitter {
    const factors: Jitter['factors'] = [
      uniform(random, this.brightness),
      uniform(random, this.contrast),
      uniform(random, this.saturation),
      uniform(random, this.hue),
    ];
    return { factors, order: random.shuffle([0, 1, 2, 3]) };
  }
  protected image(image: Tensor, params: readonly (Jitter | undefined)[]): Tensor {
    // Samples sharing an order go through the four steps together.
    const groups = new Map<string, number[]>();
    params.forEach((q, i) => {
      if (q === undefined) return;
      const key = q.order.join('');
      const list = groups.get(key);
      if (list) list.push(i);
      else groups.set(key, [i]);
    });
    return torch.tidy(() => {
      const only = groups.size === 1 ? [...groups.values()][0]! : null;
      let out = only !== null && only.length === params.length ? null : image.clone();
      for (const indices of groups.values()) {
        const idx = torch.tensor(Int32Array.from(indices)).long();
        let x = out === null ? image : image.indexSelect(0, idx);
        for (const step of params[indices[0]!]!.order) {
          const f = perSample(
            indices.map((i) => params[i]!.factors[step]!),
            [indices.length, 1, 1, 1],
          ).to({ dtype: image.dtype });
          x = JITTER[step]!(x, f);
        }
        if (out === null) out = x;
        else torch.ops.call('index_copy_', out, 0, idx, x);
      }
      return out!;
    });
  }
}

export interface HueSaturationValueOptions {
  /** Hue shift in OpenCV's 8-bit hue units, 180 a turn (default 20: [-20, 20]). */
  hueShiftLimit?: number | [number, number];
  /** Saturation shift in 8-bit units, 255 full scale (default 30: [-30, 30]). */
  satShiftLimit?: number | [number, number];
  /** Value shift in 8-bit units (default 20: [-20, 20]). */
  valShiftLimit?: number | [number, number];
  p?: number;
}

/**
 * Shifts hue, saturation and value (albumentations' HueSaturationValue, limits in OpenCV's
 * 8-bit HSV units as it reads them; p = 0.5 by default): h + dh / 180 turns, s + ds / 255 and
 * v + dv / 255 clipped to [0, 1], grey pixels (s = 0) kept grey. Computed in float, without
 * albumentations' round trip through uint8. Grayscale images shift their value only.
 */
export class HueSaturationValue extends ImageTransform<[number, number, number]> {
  readonly hueShiftLimit: Range;
  readonly satShiftLimit: Range;
  readonly valShiftLimit: Range;

  constructor(options?: HueSaturationValueOptions) {
    const o = readOptions('HueSaturationValue', options, ['hueShiftLimit', 'satShiftLimit', 'valShiftLimit', 'p']);
    super('HueSaturationValue', readP(o, 0.5));
    this.hueShiftLimit = readRange(o, 'hueShiftLimit', [-20, 20], { form: 'symmetric' });
    this.satShiftLimit = readRange(o, 'satShiftLimit', [-30, 30], { form: 'symmetric' });
    this.valShiftLimit = readRange(o, 'valShiftLimit', [-20, 20], { form: 'symmetric' });
  }
  protected override check(shape: BatchShape): void {
    needsRgb(this.name, shape, 'an HSV shift');
  }
  protected draw(random: Random): [number, number, number] {
    return [uniform(random, this.hueShiftLimit), uniform(random, this.satShiftLimit), uniform(random, this.valShiftLimit)];
  }
  protected image(image: Tensor, params: readonly ([number, number, number] | undefined)[]): Tensor {
    return onPicked(image, params, (x, picked) => {
      const shift = (k: number, scale: number): Tensor =>
        perSample(
          picked.map((i) => params[i]![k]! / scale),
          [picked.length, 1, 1, 1],
        ).to({ dtype: image.dtype });
      if (x.shape[1] === 1) return x.add(shift(2, 255)).clamp_(0, 1);
      const hsv = rgbToHsv(x);
      const [h, s, v] = hsv.split(1, 1) as [Tensor, Tensor, Tensor];
      const h2 = h.add(shift(0, 180)).remainder(1);
      const s2 = s.add(shift(1, 255)).clamp_(0, 1).where(s.ne(0), 0);
      const v2 = v.add(shift(2, 255)).clamp_(0, 1);
      return hsvToRgb(torch.cat([h2, s2, v2], 1));
    });
  }
}
