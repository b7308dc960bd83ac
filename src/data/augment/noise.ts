// Noise and blur: image only.
import { F, torch, type Tensor } from '../../torch/index.js';
import { readOptions } from '../../validate.js';
import type { Random } from '../random.js';
import { randint, readP, readRange, uniform, type Range } from './options.js';
import { ImageTransform, onPicked, perSample, type BatchShape } from './transform.js';

interface Noise {
  mean: number;
  std: number;
  seed: number;
}

export interface GaussNoiseOptions {
  /** Standard deviation range, as a fraction of the [0, 1] scale (default [0.2, 0.44], albumentations' std_range). */
  std?: number | [number, number];
  /** Mean range (default 0; albumentations' mean_range). */
  mean?: number | [number, number];
  /** Independent noise per channel (true, the default) or one plane shared by all channels. */
  perChannel?: boolean;
  p?: number;
}

/**
 * Adds N(mean, std^2) noise per pixel, clipped to [0, 1] (albumentations' GaussNoise: std ~
 * U(std), mean ~ U(mean) per image; p = 0.5). The pixels come from libtorch's generator,
 * reseeded per image from `random` and restored afterwards, so the noise depends on the seed
 * only and torch.manualSeed's stream is left where it was. (That generator is process-wide:
 * do not run torch random ops concurrently in worker threads while this runs.)
 */
export class GaussNoise extends ImageTransform<Noise> {
  readonly std: Range;
  readonly mean: Range;
  readonly perChannel: boolean;

  constructor(options?: GaussNoiseOptions) {
    const o = readOptions('GaussNoise', options, ['std', 'mean', 'perChannel', 'p']);
    super('GaussNoise', readP(o, 0.5));
    this.std = readRange(o, 'std', [0.2, 0.44], { form: 'fixed', min: 0, max: 1 });
    this.mean = readRange(o, 'mean', [0, 0], { form: 'fixed', min: -1, max: 1 });
    this.perChannel = o.bool('perChannel', true);
  }
  protected draw(random: Random): Noise {
    const mean = uniform(random, this.mean);
    const std = uniform(random, this.std);
    return { mean, std, seed: random.int(0x7fffffff) };
  }
  protected image(image: Tensor, params: readonly (Noise | undefined)[], shape: BatchShape): Tensor {
    return onPicked(image, params, (x, picked) => {
      const planes = [this.perChannel ? shape.channels : 1, shape.height, shape.width];
      const saved = torch.getRngState();
      let noise: Tensor;
      try {
        noise = torch.stack(
          picked.map((i) => {
            torch.manualSeed(params[i]!.seed);
            return torch.randn(planes, { dtype: image.dtype === 'float64' ? 'float64' : 'float32' });
          }),
        );
      } finally {
        torch.setRngState(saved);
      }
      const std = perSample(
        picked.map((i) => params[i]!.std),
        [picked.length, 1, 1, 1],
      );
      const mean = perSample(
        picked.map((i) => params[i]!.mean),
        [picked.length, 1, 1, 1],
      );
      return torch.addcmul(x.add(mean.to({ dtype: x.dtype })), noise.to({ dtype: x.dtype }), std.to({ dtype: x.dtype })).clamp_(0, 1);
    });
  }
}

export interface GaussianBlurOptions {
  /** Kernel size range, odd sizes (default 0: computed from sigma as int(3.5 sigma) * 2 + 1, PIL's rule). */
  blurLimit?: number | [number, number];
  /** Sigma range in pixels (default [0.5, 3]). */
  sigmaLimit?: number | [number, number];
  p?: number;
}

/** albumentations' create_gaussian_kernel_1d: odd size, integer taps, normalised. */
export function gaussianKernel1d(sigma: number, ksize: number): number[] {
  let size = ksize === 0 ? Math.trunc(sigma * 3.5) * 2 + 1 : ksize;
  if (size % 2 === 0) size += 1;
  const half = (size - 1) / 2;
  if (!(sigma > 0)) return Array.from({ length: size }, (_, i) => (i === half ? 1 : 0));
  const k = Array.from({ length: size }, (_, i) => Math.exp(-0.5 * ((i - half) / sigma) ** 2));
  const sum = k.reduce((a, b) => a + b, 0);
  return k.map((v) => v / sum);
}

/**
 * A Gaussian blur per image (albumentations' GaussianBlur: sigma ~ U(sigmaLimit), size from
 * blurLimit or from sigma; p = 0.5): a separable convolution, rows then columns, with OpenCV's
 * default border (reflect101, PyTorch's 'reflect' pad). The picked images go through one
 * grouped convolution: each gets its own kernel, zero-padded to the largest size drawn.
 */
export class GaussianBlur extends ImageTransform<number[]> {
  readonly blurLimit: Range;
  readonly sigmaLimit: Range;

  constructor(options?: GaussianBlurOptions) {
    const o = readOptions('GaussianBlur', options, ['blurLimit', 'sigmaLimit', 'p']);
    super('GaussianBlur', readP(o, 0.5));
    this.blurLimit = readRange(o, 'blurLimit', [0, 0], { form: 'fromZero', min: 0, integer: true });
    this.sigmaLimit = readRange(o, 'sigmaLimit', [0.5, 3], { form: 'fromZero', min: 0 });
  }
  private largestKernel(): number {
    const fromSigma = Math.trunc(this.sigmaLimit[1] * 3.5) * 2 + 1;
    const [lo, hi] = this.blurLimit;
    return Math.max(lo === 0 ? fromSigma : 0, hi === 0 ? fromSigma : hi % 2 === 0 ? hi + 1 : hi);
  }
  protected override check(shape: BatchShape): void {
    const k = this.largestKernel();
    if ((k - 1) / 2 >= Math.min(shape.height, shape.width)) {
      throw new RangeError(
        `${this.name}: kernels up to ${k} pixels need images larger than ${(k - 1) / 2} pixels on each side, got ${shape.height}x${shape.width}; lower blurLimit or sigmaLimit`,
      );
    }
  }
  protected draw(random: Random): number[] {
    const sigma = uniform(random, this.sigmaLimit);
    const ksize = randint(random, this.blurLimit[0], this.blurLimit[1]);
    return gaussianKernel1d(sigma, ksize);
  }
  protected image(image: Tensor, params: readonly (number[] | undefined)[], shape: BatchShape): Tensor {
    return onPicked(image, params, (x, picked) => {
      const size = Math.max(...picked.map((i) => params[i]!.length));
      const c = shape.channels;
      const s = picked.length;
      const taps = new Float32Array(s * c * size);
      picked.forEach((i, k) => {
        const kernel = params[i]!;
        const at = (size - kernel.length) / 2;
        for (let ch = 0; ch < c; ch++) taps.set(kernel, (k * c + ch) * size + at);
      });
      const r = (size - 1) / 2;
      const dtype = image.dtype === 'float64' ? 'float64' : 'float32';
      const rowKernel = torch.tensor(taps, { shape: [s * c, 1, 1, size] }).to({ dtype });
      const colKernel = rowKernel.view([s * c, 1, size, 1]);
      const flat = F.pad(x.reshape([1, s * c, shape.height, shape.width]).to({ dtype }), [r, r, r, r], { mode: 'reflect' });
      const blurred = F.conv2d(F.conv2d(flat, rowKernel, { groups: s * c }), colKernel, { groups: s * c });
      return blurred.view([s, c, shape.height, shape.width]).to({ dtype: image.dtype });
    });
  }
}
