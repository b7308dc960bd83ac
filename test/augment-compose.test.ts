// Composition, seeding and option checking of src/data/augment: Compose / OneOf / SomeOf with
// marker transforms whose effect names them (x2, x3, x5 on an image of ones), the p = 0 / p = 1
// contract, same seed same batch, and the error message of every bad option.
import { describe } from 'node:test';
import assert from 'node:assert/strict';
import { torch } from '../src/index.js';
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
  HueSaturationValue,
  Normalize,
  OneOf,
  PadIfNeeded,
  RandomBrightnessContrast,
  RandomCrop,
  RandomGamma,
  RandomResizedCrop,
  RandomRotate90,
  ShiftScaleRotate,
  SomeOf,
  Transpose,
  VerticalFlip,
  type Transform,
} from '../src/data/augment/index.js';
import { assertThrows, tensorTest } from './helpers.js';
import { meta, smoothImage, take } from './augment-helpers.js';

/** Multiplies the image by f: a marker whose effect says it ran. */
const times = (f: number, p = 1): Normalize => new Normalize({ mean: 0, std: 1 / f, p });

function ones(n: number, size = 2): Batch {
  return { image: torch.ones([n, 1, size, size]), mask: torch.zeros([n, size, size], { dtype: 'int64' }), meta: meta(n) };
}

/** The factor each sample was multiplied by (read at pixel 0). */
function factors(b: Batch): number[] {
  const v = take(torch.tidy(() => b.image.select(1, 0).select(1, 0).select(1, 0).contiguous()));
  b.image.dispose();
  b.mask.dispose();
  return Array.from(v, (x) => Math.round(x * 1000) / 1000);
}

const count = (list: number[], v: number): number => list.filter((x) => x === v).length;

describe('composition', () => {
  tensorTest('Compose applies in order; with p < 1 each sample takes all of it or none', () => {
    assert.deepEqual(factors(new Compose([times(2), times(3)]).apply(ones(4), new Random(0))), [6, 6, 6, 6]);
    const f = factors(new Compose([times(2), times(3)], { p: 0.5 }).apply(ones(64), new Random(1)));
    assert.ok(f.every((v) => v === 1 || v === 6));
    assert.ok(count(f, 6) > 16 && count(f, 1) > 16, `both occur: ${count(f, 6)} of 64 transformed`);
  });

  tensorTest("OneOf picks one child per sample by the children's p, then applies it regardless of that p", () => {
    const f = factors(new OneOf([times(2, 0.25), times(3, 0.75)], { p: 1 }).apply(ones(400), new Random(2)));
    assert.equal(count(f, 2) + count(f, 3), 400, 'exactly one child per sample');
    assert.ok(Math.abs(count(f, 2) - 100) < 45, `x2 chosen ${count(f, 2)} times of 400 (expected about 100)`);
    const half = factors(new OneOf([times(2), times(3)]).apply(ones(400), new Random(3)));
    assert.ok(Math.abs(count(half, 1) - 200) < 60, `p = 0.5 by default: ${count(half, 1)} of 400 untouched`);
  });

  tensorTest('SomeOf runs n distinct children per sample in list order (or with repeats under replace)', () => {
    const f = factors(new SomeOf([times(2), times(3), times(5)], { n: 2 }).apply(ones(120), new Random(4)));
    assert.ok(f.every((v) => v === 6 || v === 10 || v === 15));
    assert.ok([6, 10, 15].every((v) => count(f, v) > 10));
    const r = factors(new SomeOf([times(2), times(3)], { n: 2, replace: true }).apply(ones(120), new Random(4)));
    assert.ok(
      [4, 6, 9].every((v) => count(r, v) > 10),
      'repeats happen',
    );
  });

  tensorTest('children from elsewhere (a plain { name, apply }) run on the samples that chose them', () => {
    const double: Transform = {
      name: 'Double',
      apply: (b) => {
        const image = b.image.mul(2);
        b.image.dispose();
        return { image, mask: b.mask, meta: b.meta };
      },
    };
    const f = factors(new OneOf([double, times(3)], { p: 1 }).apply(ones(60), new Random(5)));
    assert.ok(f.every((v) => v === 2 || v === 3) && count(f, 2) > 10);
  });

  tensorTest('OneOf of crops of one size (p = 1): every sample cropped by its own choice, batch order kept', () => {
    const x = torch.tidy(() => torch.arange(6 * 64, { dtype: 'float32' }).reshape([6, 1, 8, 8]));
    const out = new OneOf([new RandomCrop({ height: 4, width: 4 }), new CenterCrop({ height: 4, width: 4 })], { p: 1 }).apply(
      { image: x.clone(), mask: torch.tidy(() => x.select(1, 0).long()), meta: meta(6) },
      new Random(6),
    );
    assert.deepEqual([...out.image.shape], [6, 1, 4, 4]);
    const v = take(out.image.clone());
    for (let i = 0; i < 6; i++) {
      const block = Array.from(v).slice(i * 16, i * 16 + 16);
      assert.ok(
        block.every((p) => p >= i * 64 && p < (i + 1) * 64),
        `sample ${i} holds its own pixels`,
      );
    }
    assert.deepEqual(
      out.meta.map((m) => m.name),
      ['s0', 's1', 's2', 's3', 's4', 's5'],
    );
    torch.dispose([out.image, out.mask, x]);
    const b = ones(2, 8);
    assertThrows(
      () => new OneOf([new RandomCrop({ height: 4, width: 4 })], { p: 0.5 }).apply(b, new Random(0)),
      RangeError,
      /^OneOf: p must be 1 when its transforms change the size \(8x8 -> 4x4/,
    );
    assertThrows(
      () => new OneOf([new RandomCrop({ height: 4, width: 4 }), new CenterCrop({ height: 5, width: 5 })], { p: 1 }).apply(b, new Random(0)),
      RangeError,
      /^OneOf: its transforms give different sizes for 8x8 \(4x4, 5x5/,
    );
    assertThrows(
      () => new Compose([new CenterCrop({ height: 4, width: 4 })], { p: 0.5 }).apply(b, new Random(0)),
      RangeError,
      /^Compose: with p < 1/,
    );
    assertThrows(
      () => new SomeOf([new CenterCrop({ height: 4, width: 4 })]).apply(b, new Random(0)),
      RangeError,
      /^SomeOf: its transforms must keep the size/,
    );
    torch.dispose([b.image, b.mask]);
  });
});

/** One of each transform, with `p` when given (else its default). */
const everything = (p?: number): Transform[] => [
  new HorizontalFlip({ p }),
  new VerticalFlip({ p }),
  new Transpose({ p }),
  new RandomRotate90({ p }),
  new D4({ p }),
  new ShiftScaleRotate({ p }),
  new RandomBrightnessContrast({ p }),
  new ColorJitter({ p }),
  new RandomGamma({ p }),
  new HueSaturationValue({ p }),
  new GaussNoise({ p }),
  new GaussianBlur({ sigmaLimit: [0.5, 1.5], p }),
  new RandomCrop({ height: 24, width: 24 }),
  new PadIfNeeded({ minHeight: 32, minWidth: 32, position: 'random' }),
  new RandomResizedCrop({ size: [16, 16] }),
  new Normalize({ p }),
];

describe('seeding and p', () => {
  const batch = (): Batch => {
    const image = smoothImage(6, 3, 32, 32);
    return { image, mask: torch.tidy(() => image.select(1, 0).gt(0.5).long()), meta: meta(6) };
  };

  tensorTest('the same seed gives the same batch, another seed another batch', () => {
    const pipeline = new Compose(everything());
    const a = pipeline.apply(batch(), new Random(42));
    const b = pipeline.apply(batch(), new Random(42));
    const c = pipeline.apply(batch(), new Random(43));
    assert.ok(a.image.equal(b.image) && a.mask.equal(b.mask), 'same seed');
    assert.ok(!a.image.equal(c.image), 'other seed');
    for (const x of [a, b, c]) torch.dispose([x.image, x.mask]);
  });

  tensorTest('p = 0 returns the very same tensors; p = 1 changes every sample', () => {
    const zero: Transform[] = [
      new HorizontalFlip({ p: 0 }),
      new D4({ p: 0 }),
      new ShiftScaleRotate({ p: 0 }),
      new ColorJitter({ p: 0 }),
      new GaussNoise({ p: 0 }),
      new GaussianBlur({ p: 0 }),
      new RandomCrop({ height: 8, width: 8, p: 0 }),
      new Normalize({ p: 0 }),
      new Compose([new HorizontalFlip({ p: 1 })], { p: 0 }),
      new OneOf([new HorizontalFlip({ p: 1 })], { p: 0 }),
    ];
    for (const t of zero) {
      const b = batch();
      const out = t.apply(b, new Random(1));
      assert.ok(out.image === b.image && out.mask === b.mask, `${t.name} with p = 0`);
      torch.dispose([b.image, b.mask]);
    }
    const one: Transform[] = [
      new HorizontalFlip({ p: 1 }),
      new VerticalFlip({ p: 1 }),
      new Transpose({ p: 1 }),
      new ShiftScaleRotate({ p: 1 }),
      new RandomBrightnessContrast({ p: 1 }),
      new ColorJitter({ p: 1 }),
      new RandomGamma({ p: 1 }),
      new HueSaturationValue({ p: 1 }),
      new GaussNoise({ p: 1 }),
      new GaussianBlur({ p: 1 }),
      new Normalize({ p: 1 }),
    ];
    for (const t of one) {
      const b = batch();
      const before = b.image.clone();
      const out = t.apply(b, new Random(1));
      const changed = torch.tidy(() =>
        out.image
          .sub(before)
          .abs()
          .amax({ dim: [1, 2, 3] })
          .gt(1e-4)
          .all()
          .item(),
      );
      assert.equal(changed, 1, `${t.name} with p = 1 changes every sample`);
      torch.dispose([before, out.image, out.mask]);
    }
  });

  tensorTest('with p = 0.5 the samples left alone come back bit for bit, the others change', () => {
    const keepSize = everything(0.5).filter(
      (t) => !(t instanceof RandomCrop || t instanceof PadIfNeeded || t instanceof RandomResizedCrop),
    );
    for (const t of keepSize) {
      const half = t;
      const image = smoothImage(16, 3, 32, 32);
      const before = image.clone();
      const out = half.apply({ image, mask: torch.tidy(() => image.select(1, 0).gt(0.5).long()), meta: meta(16) }, new Random(21));
      const same = take(torch.tidy(() => out.image.eq(before).flatten(1).all({ dim: 1 }).to({ dtype: 'int32' })));
      const kept = Array.from(same).filter(Boolean).length;
      assert.ok(kept >= 3 && kept <= 13, `${t.name}: ${kept} of 16 samples untouched`);
      torch.tidy(() => assert.equal(out.image.isnan().any().item(), 0, `${t.name}: no NaN`));
      torch.dispose([before, out.image, out.mask]);
    }
  });

  tensorTest('with p = 0.5 each sample is drawn on its own: some flipped, some not', () => {
    const b = batch();
    const x = b.image.clone();
    const out = new HorizontalFlip().apply(b, new Random(8));
    const flipped = take(torch.tidy(() => out.image.eq(x.flip(3)).flatten(1).all({ dim: 1 }).to({ dtype: 'int32' })));
    const same = take(torch.tidy(() => out.image.eq(x).flatten(1).all({ dim: 1 }).to({ dtype: 'int32' })));
    for (let i = 0; i < 6; i++) assert.equal(flipped[i]! + same[i]!, 1, `sample ${i} is flipped or untouched`);
    assert.ok(Array.from(flipped).some(Boolean) && Array.from(same).some(Boolean));
    torch.dispose([x, out.image, out.mask]);
  });
});
