// Bad options and bad batches: every error of src/data/augment names the transform, the
// option, what was expected and what came.
import { describe } from 'node:test';
import { torch, type Tensor } from '../src/index.js';
import { Random } from '../src/data/random.js';
import type { Batch } from '../src/data/dataset.js';
import {
  CenterCrop,
  ColorJitter,
  Compose,
  D4,
  GaussianBlur,
  GaussNoise,
  HorizontalFlip,
  Normalize,
  OneOf,
  PadIfNeeded,
  RandomBrightnessContrast,
  RandomCrop,
  RandomGamma,
  RandomResizedCrop,
  ShiftScaleRotate,
  SomeOf,
  VerticalFlip,
  type Transform,
} from '../src/data/augment/index.js';
import { assertThrows, tensorTest } from './helpers.js';
import { meta } from './augment-helpers.js';

describe('bad options and bad batches', () => {
  const cases: [string, () => unknown, ErrorConstructor | TypeErrorConstructor | RangeErrorConstructor, RegExp][] = [
    ['p above 1', () => new HorizontalFlip({ p: 2 }), RangeError, /^HorizontalFlip: p must be a number from 0 to 1, got 2$/],
    ['p not a number', () => new D4({ p: '1' as unknown as number }), TypeError, /^D4: p must be a number from 0 to 1, got '1'$/],
    ['unknown option', () => new VerticalFlip({ prob: 1 } as object), TypeError, /^VerticalFlip: unknown option 'prob' \(known: p\)/],
    [
      'missing crop size',
      () => new RandomCrop({ width: 4 } as { height: number; width: number }),
      TypeError,
      /^RandomCrop: height must be a positive integer, got undefined$/,
    ],
    ['zero crop size', () => new CenterCrop({ height: 0, width: 4 }), RangeError, /^CenterCrop: height must be a positive integer, got 0$/],
    [
      'typo',
      () => new RandomCrop({ hight: 4, width: 4 } as unknown as { height: number; width: number }),
      TypeError,
      /did you mean 'height'/,
    ],
    [
      'size of 1',
      () => new RandomResizedCrop({ size: [224] as unknown as [number, number] }),
      RangeError,
      /^RandomResizedCrop: size must be an integer or an array of 2 positive integers, got \[224\]$/,
    ],
    [
      'scale reversed',
      () => new RandomResizedCrop({ size: 8, scale: [0.9, 0.2] }),
      RangeError,
      /^RandomResizedCrop: scale must be an array of 2 numbers \[low, high\] with low <= high, both > 0 and <= 1, got \[0\.9, 0\.2\]$/,
    ],
    [
      'interpolation',
      () => new RandomResizedCrop({ size: 8, interpolation: 'linear' as 'bilinear' }),
      TypeError,
      /^RandomResizedCrop: interpolation must be one of 'bilinear', 'bicubic', 'nearest', 'area', got 'linear'$/,
    ],
    [
      'border mode',
      () => new ShiftScaleRotate({ borderMode: 'mirror' as 'reflect' }),
      TypeError,
      /^ShiftScaleRotate: borderMode must be one of 'constant', 'replicate', 'reflect', 'reflect101', got 'mirror'$/,
    ],
    [
      'shift beyond 1',
      () => new ShiftScaleRotate({ shiftLimit: 1.5 }),
      RangeError,
      /^ShiftScaleRotate: shiftLimit must be a number or an array of 2 numbers .* >= -1 and <= 1, got '1\.5 \(read as \[-1\.5, 1\.5\]\)'$/,
    ],
    [
      'scale to 0',
      () => new ShiftScaleRotate({ scaleLimit: [-1, 0] }),
      RangeError,
      /^ShiftScaleRotate: scaleLimit must be .* > -1.*, got \[-1, 0\]$/,
    ],
    [
      'ignoreIndex',
      () => new ShiftScaleRotate({ ignoreIndex: 2.5 }),
      RangeError,
      /^ShiftScaleRotate: ignoreIndex must be an integer, got 2\.5$/,
    ],
    [
      'limit as text',
      () => new RandomBrightnessContrast({ brightnessLimit: 'high' as unknown as number }),
      TypeError,
      /^RandomBrightnessContrast: brightnessLimit must be a number or an array of 2 numbers/,
    ],
    [
      'hue beyond 0.5',
      () => new ColorJitter({ hue: 0.7 }),
      RangeError,
      /^ColorJitter: hue must be .* >= -0\.5 and <= 0\.5, got '0\.7 \(read as \[-0\.7, 0\.7\]\)'$/,
    ],
    [
      'negative factor',
      () => new ColorJitter({ brightness: -0.2 }),
      RangeError,
      /^ColorJitter: brightness must be a number or an array of 2 numbers .* >= 0, got -0\.2$/,
    ],
    [
      'gamma as one number',
      () => new RandomGamma({ gammaLimit: 90 as unknown as [number, number] }),
      TypeError,
      /^RandomGamma: gammaLimit must be an array of 2 numbers \[low, high\]/,
    ],
    ['std above 1', () => new GaussNoise({ std: [0.1, 2] }), RangeError, /^GaussNoise: std must be .* <= 1, got \[0\.1, 2\]$/],
    [
      'blur size',
      () => new GaussianBlur({ blurLimit: 2.5 }),
      RangeError,
      /^GaussianBlur: blurLimit must be a non-negative integer or an array of 2 integers/,
    ],
    [
      'zero std',
      () => new Normalize({ std: [0.2, 0, 0.2] }),
      RangeError,
      /^Normalize: std must be a number or a non-empty array of positive finite numbers, got \[0\.2, 0, 0\.2\]$/,
    ],
    [
      'both min and divisor',
      () => new PadIfNeeded({ minHeight: 8, padHeightDivisor: 32 }),
      TypeError,
      /^PadIfNeeded: padHeightDivisor must be absent when minHeight is given/,
    ],
    [
      'pad position',
      () => new PadIfNeeded({ position: 'middle' as 'center' }),
      TypeError,
      /^PadIfNeeded: position must be one of 'center', .*, got 'middle'$/,
    ],
    [
      'Compose of a number',
      () => new Compose([1 as unknown as Transform]),
      TypeError,
      /^Compose: transforms\[0\] must be a transform \(an object with apply\(batch, random\)\), got 1$/,
    ],
    [
      'SomeOf n too large',
      () => new SomeOf([new HorizontalFlip()], { n: 2 }),
      RangeError,
      /^SomeOf: n must be an integer from 0 to 1, got 2$/,
    ],
    ['OneOf options', () => new OneOf([], { P: 1 } as object), TypeError, /^OneOf: unknown option 'P' .*did you mean 'p'/],
  ];
  for (const [what, make, kind, pattern] of cases) {
    tensorTest(`${what}: ${pattern.source.slice(1, 40)}...`, () => assertThrows(make, kind, pattern));
  }

  tensorTest('a batch that breaks the contract is named with what was expected and what came', () => {
    const image = torch.zeros([2, 3, 4, 4]);
    const t = new HorizontalFlip({ p: 1 });
    const r = new Random(0);
    const m = (mask: Tensor, metaList = meta(2)): Batch => ({ image, mask, meta: metaList });
    torch.tidy(() => {
      assertThrows(
        () => t.apply(m(torch.zeros([2, 4, 4])), r),
        TypeError,
        /^HorizontalFlip: batch\.mask must be an int64 tensor \[N, H, W\] or a float32 tensor \[N, K, H, W\], got a float32 tensor \[2, 4, 4\]$/,
      );
      assertThrows(
        () => t.apply(m(torch.zeros([2, 5, 4], { dtype: 'int64' })), r),
        RangeError,
        /^HorizontalFlip: batch\.mask \(an int64 tensor \[2, 5, 4\]\) does not match batch\.image \(a float32 tensor \[2, 3, 4, 4\]\): they need the same N, H and W$/,
      );
      assertThrows(
        () => t.apply(m(torch.zeros([2, 4, 4], { dtype: 'int64' }), meta(1)), r),
        TypeError,
        /^HorizontalFlip: batch\.meta must be an array of 2 SampleMeta/,
      );
      assertThrows(
        () => t.apply({ image: torch.zeros([3, 4, 4]), mask: torch.zeros([3, 4, 4]), meta: meta(3) } as Batch, r),
        TypeError,
        /^HorizontalFlip: batch\.image must be a float32 tensor \[N, C, H, W\], got a float32 tensor \[3, 4, 4\]$/,
      );
      assertThrows(() => t.apply(undefined as unknown as Batch, r), TypeError, /^HorizontalFlip: batch must be a Batch/);
    });
    image.dispose();
  });
});
