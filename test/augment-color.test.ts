// Colour, noise, blur and Normalize (src/data/augment): hand-computed values, torchvision 0.14's
// tensor functional (test/fixtures/augment/fixtures.json, from
// scripts/fixtures/make_augment_fixtures.py), and the clipping each reference applies.
import { describe } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { torch, type Tensor } from '../src/index.js';
import { Random } from '../src/data/random.js';
import type { Batch } from '../src/data/dataset.js';
import {
  ColorJitter,
  GaussianBlur,
  GaussNoise,
  gaussianKernel1d,
  HueSaturationValue,
  hsvToRgb,
  IMAGENET_MEAN,
  IMAGENET_STD,
  Normalize,
  RandomBrightnessContrast,
  RandomGamma,
  rgbToGrayscale,
  rgbToHsv,
  type Transform,
} from '../src/data/augment/index.js';
import { FIXTURES, assertClose, assertThrows, tensorTest } from './helpers.js';
import { meta, smoothImage, take } from './augment-helpers.js';

const C = JSON.parse(readFileSync(join(FIXTURES, 'augment', 'fixtures.json'), 'utf8')).color;

/** (sin(a arange(n)) + 1) / 2: the fixture script's images, rebuilt here. */
function fixtureImage(shape: number[], a: number): Tensor {
  return torch.tidy(() =>
    torch
      .arange(
        shape.reduce((x, y) => x * y, 1),
        { dtype: 'float32' },
      )
      .mul(a)
      .sin()
      .add(1)
      .mul(0.5)
      .reshape(shape),
  );
}
const expected = (key: string, shape: readonly number[]): Tensor => torch.tensor(Float32Array.from(C[key]), { shape });

/** Runs `t` on a copy of `image` (mask: zeros) and returns the new image; the mask must come back untouched. */
function run(t: Transform, image: Tensor, seed = 0): Tensor {
  const mask = torch.zeros([image.shape[0]!, image.shape[2]!, image.shape[3]!], { dtype: 'int64' });
  const out = t.apply({ image: image.clone(), mask, meta: meta(image.shape[0]!) } as Batch, new Random(seed));
  assert.equal(out.mask, mask, `${t.name} leaves the mask tensor alone`);
  mask.dispose();
  return out.image;
}

/** ColorJitter with one factor free and the others at their identity. */
const jitter = (o: object) => new ColorJitter({ brightness: [1, 1], contrast: [1, 1], saturation: [1, 1], hue: [0, 0], p: 1, ...o });

describe('RandomBrightnessContrast', () => {
  tensorTest('brightness adds beta; contrast scales about the image mean; results are clipped to [0, 1]', () => {
    const x = torch.tensor([0.1, 0.2, 0.6, 0.9, 0.3, 0.5, 0.7, 0.95], { shape: [2, 1, 2, 2] });
    const bright = run(new RandomBrightnessContrast({ brightnessLimit: [0.1, 0.1], contrastLimit: 0, p: 1 }), x);
    torch.tidy(() => assertClose(bright, torch.tensor([0.2, 0.3, 0.7, 1, 0.4, 0.6, 0.8, 1], { shape: [2, 1, 2, 2] }), 1e-6));
    const contrast = run(new RandomBrightnessContrast({ brightnessLimit: 0, contrastLimit: [0.5, 0.5], p: 1 }), x);
    // Means 0.45 and 0.6125; (x - mean) * 1.5 + mean.
    const hand = [0.1, 0.2, 0.6, 0.9]
      .map((v) => (v - 0.45) * 1.5 + 0.45)
      .concat([0.3, 0.5, 0.7, 0.95].map((v) => (v - 0.6125) * 1.5 + 0.6125));
    const clip = (v: number): number => Math.min(1, Math.max(0, v));
    torch.tidy(() => assertClose(contrast, torch.tensor(hand.map(clip), { shape: [2, 1, 2, 2] }), 1e-6));
    const byMean = run(new RandomBrightnessContrast({ brightnessLimit: [0.5, 0.5], contrastLimit: 0, brightnessByMax: false, p: 1 }), x);
    const shifted = [0.1, 0.2, 0.6, 0.9].map((v) => clip(v + 0.225));
    torch.tidy(() => assertClose(byMean.select(0, 0), torch.tensor(shifted, { shape: [1, 2, 2] }), 1e-6));
    torch.dispose([x, bright, contrast, byMean]);
  });

  tensorTest('each sample draws its own alpha and beta', () => {
    const x = torch.full([6, 3, 4, 4], 0.5);
    const y = run(new RandomBrightnessContrast({ p: 1 }), x, 9);
    const replay = new Random(9);
    const got = take(torch.tidy(() => y.select(1, 0).select(1, 0).select(1, 0).contiguous()));
    for (let i = 0; i < 6; i++) {
      replay.next();
      replay.next(); // alpha: no effect on a flat image (x - mean = 0)
      const beta = -0.2 + 0.4 * replay.next();
      assert.ok(Math.abs(got[i]! - (0.5 + beta)) < 1e-6, `sample ${i}: ${got[i]} vs ${0.5 + beta}`);
    }
    torch.dispose([x, y]);
  });
});

describe('ColorJitter (torchvision definitions)', () => {
  tensorTest('hue: pure red shifted by 1/3 turn is green, by -1/3 blue', () => {
    const red = torch.tensor([1, 0, 0], { shape: [1, 3, 1, 1] });
    const green = run(jitter({ hue: [1 / 3, 1 / 3] }), red);
    torch.tidy(() => assertClose(green, torch.tensor([0, 1, 0], { shape: [1, 3, 1, 1] }), 1e-6));
    const blue = run(jitter({ hue: [-1 / 3, -1 / 3] }), red);
    torch.tidy(() => assertClose(blue, torch.tensor([0, 0, 1], { shape: [1, 3, 1, 1] }), 1e-6));
    torch.dispose([red, green, blue]);
  });

  const cases: [string, object][] = [
    ['brightness_1.3', { brightness: [1.3, 1.3] }],
    ['contrast_0.6', { contrast: [0.6, 0.6] }],
    ['saturation_1.7', { saturation: [1.7, 1.7] }],
    ['hue_0.2', { hue: [0.2, 0.2] }],
    ['hue_-0.45', { hue: [-0.45, -0.45] }],
  ];
  for (const [key, o] of cases) {
    tensorTest(`${key} equals torchvision's adjust_*`, () => {
      const x = fixtureImage(C.image, 0.37);
      const y = run(jitter(o), x);
      torch.tidy(() => assertClose(y, expected(key, C.image), 2e-6, 1e-5, key));
      torch.dispose([x, y]);
    });
  }

  tensorTest('random order per sample, results in [0, 1], grayscale images skip saturation and hue', () => {
    const x = smoothImage(8, 3, 16, 16);
    const y = run(new ColorJitter({ brightness: 0.9, contrast: 0.9, saturation: 0.9, hue: 0.5, p: 1 }), x, 3);
    torch.tidy(() => {
      assert.ok(y.min().item() >= 0 && y.max().item() <= 1);
      assert.ok(
        y
          .sub(x)
          .abs()
          .amax({ dim: [1, 2, 3] })
          .gt(1e-3)
          .all()
          .item() === 1,
        'every sample changed',
      );
    });
    const gray = torch.tidy(() => x.narrow(1, 0, 1).contiguous());
    const g = run(new ColorJitter({ brightness: [1, 1], contrast: [1, 1], p: 1 }), gray);
    torch.tidy(() => assertClose(g, gray, 0));
    torch.dispose([x, y, gray, g]);
  });

  tensorTest('HSV conversions equal torchvision and round-trip; grayscale uses 0.2989, 0.587, 0.114', () => {
    const x = fixtureImage(C.image, 0.37);
    torch.tidy(() => {
      assertClose(rgbToHsv(x), expected('hsv', C.image), 1e-6, 1e-5, 'rgbToHsv');
      assertClose(hsvToRgb(rgbToHsv(x)), x, 2e-6, 1e-5, 'round trip');
      assertClose(rgbToGrayscale(x), expected('grayscale', [2, 1, 4, 5]), 1e-6, 1e-6, 'grayscale');
    });
    x.dispose();
  });
});

describe('RandomGamma, HueSaturationValue, GaussNoise, GaussianBlur, Normalize', () => {
  tensorTest('RandomGamma raises to gamma = U(gammaLimit) / 100; matches torchvision adjust_gamma', () => {
    const x = fixtureImage(C.image, 0.37);
    const y = run(new RandomGamma({ gammaLimit: [140, 140], p: 1 }), x);
    torch.tidy(() => assertClose(y, expected('gamma_1.4', C.image), 1e-6, 1e-5));
    torch.dispose([x, y]);
  });

  tensorTest('HueSaturationValue: 60 hue units (120 degrees) turn red green; -255 saturation greys; value adds /255', () => {
    const red = torch.tensor([1, 0, 0, 0.8, 0.2, 0.2], { shape: [2, 3, 1, 1] });
    const hue = run(new HueSaturationValue({ hueShiftLimit: [60, 60], satShiftLimit: 0, valShiftLimit: 0, p: 1 }), red);
    torch.tidy(() => assertClose(hue.select(0, 0), torch.tensor([0, 1, 0], { shape: [3, 1, 1] }), 1e-6));
    const grey = run(new HueSaturationValue({ hueShiftLimit: 0, satShiftLimit: [-255, -255], valShiftLimit: 0, p: 1 }), red);
    torch.tidy(() => assertClose(grey, torch.tensor([1, 1, 1, 0.8, 0.8, 0.8], { shape: [2, 3, 1, 1] }), 1e-6));
    const value = run(new HueSaturationValue({ hueShiftLimit: 0, satShiftLimit: 0, valShiftLimit: [-51, -51], p: 1 }), red);
    torch.tidy(() => assertClose(value, torch.tensor([0.8, 0, 0, 0.6, 0.15, 0.15], { shape: [2, 3, 1, 1] }), 1e-6));
    torch.dispose([red, hue, grey, value]);
  });

  tensorTest('GaussNoise: the std asked, clipped to [0, 1], same seed same noise, torch.manualSeed stream untouched', () => {
    const flat = torch.full([2, 3, 64, 64], 0.5);
    torch.manualSeed(7);
    const before = take(torch.rand([4]));
    torch.manualSeed(7);
    const a = run(new GaussNoise({ std: 0.1, p: 1 }), flat, 1);
    const after = take(torch.rand([4]));
    assert.deepEqual(Array.from(after), Array.from(before), 'the global generator is restored');
    const b = run(new GaussNoise({ std: 0.1, p: 1 }), flat, 1);
    const c = run(new GaussNoise({ std: 0.1, p: 1 }), flat, 2);
    torch.tidy(() => {
      assert.ok(a.equal(b), 'same seed, same noise');
      assert.ok(!a.equal(c), 'another seed, other noise');
      const std = a.sub(0.5).std().item();
      assert.ok(Math.abs(std - 0.1) < 0.005, `std ${std}`);
      assert.ok(a.select(0, 0).sub(a.select(0, 1)).abs().max().item() > 0, 'samples get their own noise');
    });
    const dark = torch.zeros([1, 3, 16, 16]);
    const clipped = run(new GaussNoise({ std: 0.3, p: 1 }), dark, 1);
    torch.tidy(() => assert.ok(clipped.min().item() === 0 && clipped.max().item() > 0));
    torch.dispose([flat, a, b, c, dark, clipped]);
  });

  tensorTest('GaussianBlur equals torchvision gaussian_blur (kernel 5, sigma 1.2, reflect padding)', () => {
    gaussianKernel1d(1.2, 5).forEach((v, i) => assert.ok(Math.abs(v - C['kernel_k5_s1.2'][i]) < 1e-7, `tap ${i}: ${v}`));
    const x = fixtureImage(C.blur_image, 0.53);
    const y = run(new GaussianBlur({ blurLimit: [5, 5], sigmaLimit: [1.2, 1.2], p: 1 }), x);
    torch.tidy(() => assertClose(y, expected('blur_k5_s1.2', C.blur_image), 2e-6, 1e-5));
    torch.dispose([x, y]);
  });

  tensorTest('GaussianBlur: per-sample kernels in one grouped convolution equal one blur per sample', () => {
    const x = smoothImage(4, 3, 24, 24);
    const t = new GaussianBlur({ sigmaLimit: [0.3, 3], p: 1 });
    const y = run(t, x, 5);
    const replay = new Random(5);
    const sizes = new Set<number>();
    for (let i = 0; i < 4; i++) {
      replay.next();
      const sigma = 0.3 + 2.7 * replay.next();
      replay.next(); // ksize draw from [0, 0]
      sizes.add(gaussianKernel1d(sigma, 0).length);
      const one = new GaussianBlur({ sigmaLimit: [sigma, sigma], p: 1 });
      const xi = torch.tidy(() => x.narrow(0, i, 1).contiguous());
      const yi = run(one, xi);
      torch.tidy(() => assertClose(y.narrow(0, i, 1), yi, 1e-6, 1e-5, `sample ${i}`));
      torch.dispose([xi, yi]);
    }
    assert.ok(sizes.size > 1, 'kernels of different sizes in one batch');
    torch.dispose([x, y]);
  });

  tensorTest('Normalize with ImageNet mean and std equals torchvision normalize; p defaults to 1', () => {
    const x = fixtureImage(C.image, 0.37);
    const t = new Normalize();
    assert.equal(t.p, 1);
    assert.deepEqual(t.mean, IMAGENET_MEAN);
    assert.deepEqual(t.std, IMAGENET_STD);
    const y = run(t, x);
    torch.tidy(() => assertClose(y, expected('normalize_imagenet', C.image), 1e-6, 1e-6));
    const single = run(new Normalize({ mean: 0.5, std: 0.25 }), x);
    torch.tidy(() => assertClose(single, x.sub(0.5).mul(4), 1e-6));
    torch.dispose([x, y, single]);
  });

  tensorTest('channel checks happen at apply time with the counts in the message', () => {
    const four = { image: torch.zeros([1, 4, 2, 2]), mask: torch.zeros([1, 2, 2], { dtype: 'int64' }), meta: meta(1) };
    assertThrows(
      () => new Normalize().apply(four, new Random(0)),
      RangeError,
      /^Normalize: mean has 3 values but the images have 4 channels/,
    );
    assertThrows(
      () => new ColorJitter().apply(four, new Random(0)),
      RangeError,
      /^ColorJitter: saturation and hue needs RGB .* got 4 channels/,
    );
    assertThrows(() => new HueSaturationValue().apply(four, new Random(0)), RangeError, /^HueSaturationValue: an HSV shift needs RGB/);
    const ok = new ColorJitter({ saturation: [1, 1], hue: [0, 0], p: 1 }).apply(four, new Random(0));
    assert.deepEqual([...ok.image.shape], [1, 4, 2, 2]);
    torch.dispose([four.image, four.mask, ok.image]);
  });
});
