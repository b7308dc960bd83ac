// Geometric augmentations (src/data/augment): hand-made images with known answers, the draws
// replicated from the same seed, and torchvision fixtures for the resize arithmetic. Alignment
// on real tiles is in augment-alignment.test.ts.
import { describe } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { torch, F, type Tensor } from '../src/index.js';
import { Random } from '../src/data/random.js';
import type { Batch } from '../src/data/dataset.js';
import {
  applyD4,
  CenterCrop,
  D4,
  D4_ELEMENTS,
  HorizontalFlip,
  PadIfNeeded,
  RandomCrop,
  RandomResizedCrop,
  RandomRotate90,
  ShiftScaleRotate,
  Transpose,
  VerticalFlip,
  type D4Element,
} from '../src/data/augment/index.js';
import { FIXTURES, assertClose, assertThrows, tensorTest } from './helpers.js';
import { meta } from './augment-helpers.js';

const J = JSON.parse(readFileSync(join(FIXTURES, 'augment', 'fixtures.json'), 'utf8'));

const grid = (n: number, h: number, w: number): Tensor =>
  torch.tidy(() => torch.arange(n * h * w, { dtype: 'float32' }).reshape([n, 1, h, w]));
const batchOf = (image: Tensor, mask?: Tensor): Batch => ({
  image,
  mask: mask ?? torch.tidy(() => image.select(1, 0).long()),
  meta: meta(image.shape[0]!),
});
const list = (t: Tensor): unknown => t.tolist();
const done = (b: Batch): void => {
  b.image.dispose();
  b.mask.dispose();
};

describe('D4: flips, transposes, quarter turns', () => {
  tensorTest('a labelled top-left corner lands where each element says', () => {
    torch.tidy(() => {
      const corner = torch.tensor([1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], { shape: [4, 4] });
      const where: Record<D4Element, [number, number]> = {
        e: [0, 0],
        r90: [3, 0], // counter-clockwise: top-left -> bottom-left
        r180: [3, 3],
        r270: [0, 3], // clockwise: top-left -> top-right
        v: [3, 0],
        h: [0, 3],
        t: [0, 0],
        hvt: [3, 3],
      };
      for (const e of D4_ELEMENTS) {
        const at = Array.from(applyD4(corner, e).toArray() as Float32Array).indexOf(1);
        assert.deepEqual([Math.floor(at / 4), at % 4], where[e], `element ${e}`);
      }
      // r90 is np.rot90: the last column becomes the first row.
      assert.deepEqual(list(applyD4(torch.arange(4).reshape([2, 2]), 'r90')), [
        [1, 3],
        [0, 2],
      ]);
    });
  });

  tensorTest('the 8 elements are distinct and closed under composition (a Latin-square table)', () => {
    torch.tidy(() => {
      const x = torch.arange(16).reshape([4, 4]);
      const key = (t: Tensor): string => Array.from(t.toArray() as BigInt64Array, Number).join(',');
      const images = D4_ELEMENTS.map((e) => key(applyD4(x, e)));
      assert.equal(new Set(images).size, 8);
      for (const a of D4_ELEMENTS) {
        const row = D4_ELEMENTS.map((b) => images.indexOf(key(applyD4(applyD4(x, a), b))));
        assert.ok(
          row.every((i) => i >= 0),
          `${a} then some element is not an element`,
        );
        assert.equal(new Set(row).size, 8, `row ${a} repeats an element`);
      }
    });
  });

  tensorTest('flip twice is the identity; transpose is r90 then a vertical flip; the classes agree with applyD4', () => {
    const x = grid(2, 5, 5);
    const r = new Random(1);
    let b = batchOf(x.clone());
    b = new HorizontalFlip({ p: 1 }).apply(b, r);
    torch.tidy(() => assert.deepEqual(list(b.image), list(applyD4(x, 'h'))));
    b = new HorizontalFlip({ p: 1 }).apply(b, r);
    b = new VerticalFlip({ p: 1 }).apply(b, r);
    torch.tidy(() => assert.deepEqual(list(b.image), list(applyD4(x, 'v'))));
    b = new VerticalFlip({ p: 1 }).apply(b, r);
    torch.tidy(() => assert.deepEqual(list(b.image), list(x)));
    b = new Transpose({ p: 1 }).apply(b, r);
    torch.tidy(() => {
      assert.deepEqual(list(b.image), list(x.transpose(2, 3)));
      assert.deepEqual(list(b.image), list(applyD4(applyD4(x, 'r90'), 'v')));
      assert.deepEqual(list(b.mask), list(x.select(1, 0).transpose(1, 2).long()));
    });
    done(b);
    x.dispose();
  });

  tensorTest('RandomRotate90 and D4 give each sample the element its own draws name', () => {
    const x = grid(6, 4, 4);
    for (const [t, pick] of [
      [new RandomRotate90({ p: 1 }), (r: Random) => (['e', 'r90', 'r180', 'r270'] as const)[r.int(4)]!],
      [new D4(), (r: Random) => D4_ELEMENTS[r.int(8)]!],
    ] as const) {
      const out = t.apply(batchOf(x.clone()), new Random(11));
      const replay = new Random(11);
      const elements = Array.from({ length: 6 }, () => {
        replay.next(); // the p draw
        return pick(replay);
      });
      assert.ok(new Set(elements).size > 1, 'the draws differ between samples');
      torch.tidy(() => {
        elements.forEach((e, i) => {
          assert.deepEqual(list(out.image.select(0, i)), list(applyD4(x.select(0, i), e)), `${t.name} sample ${i}: ${e}`);
          assert.deepEqual(list(out.mask.select(0, i)), list(applyD4(x.select(0, i).select(0, 0).long(), e)));
        });
      });
      done(out);
    }
    x.dispose();
  });

  tensorTest('transposing transforms need square images and say so before drawing', () => {
    const b = batchOf(torch.zeros([1, 1, 4, 6]));
    for (const t of [new Transpose(), new RandomRotate90(), new D4()]) {
      const r = new Random(0);
      assertThrows(() => t.apply(b, r), RangeError, new RegExp(`^${t.name}: needs square images, got 4x6`));
      assert.equal(r.getState(), new Random(0).getState(), 'nothing drawn');
    }
    done(b);
  });
});

describe('crops', () => {
  tensorTest('RandomCrop takes y = floor((H - h + 1) u), x likewise, per sample; CenterCrop the middle', () => {
    const x = grid(5, 9, 11);
    const out = new RandomCrop({ height: 4, width: 6 }).apply(batchOf(x.clone()), new Random(3));
    const replay = new Random(3);
    torch.tidy(() => {
      const offsets = new Set<string>();
      for (let i = 0; i < 5; i++) {
        replay.next();
        const y = Math.floor(6 * replay.next());
        const xo = Math.floor(6 * replay.next());
        offsets.add(`${y},${xo}`);
        assert.deepEqual(list(out.image.select(0, i)), list(x.select(0, i).narrow(1, y, 4).narrow(2, xo, 6)), `sample ${i} at ${y},${xo}`);
        assert.deepEqual(list(out.mask.select(0, i)), list(x.select(0, i).select(0, 0).narrow(0, y, 4).narrow(1, xo, 6).long()));
      }
      assert.ok(offsets.size > 1, 'offsets are drawn per sample');
    });
    done(out);
    const centre = new CenterCrop({ height: 4, width: 6 }).apply(batchOf(x.clone()), new Random(0));
    torch.tidy(() => assert.deepEqual(list(centre.image), list(x.narrow(2, 2, 4).narrow(3, 2, 6))));
    done(centre);
    x.dispose();
  });

  tensorTest('a crop larger than the image is refused with both sizes; p < 1 with a size change is refused', () => {
    const b = batchOf(torch.zeros([2, 1, 8, 8]));
    assertThrows(
      () => new RandomCrop({ height: 9, width: 4 }).apply(b, new Random(0)),
      RangeError,
      /^RandomCrop: the crop 9x4 .* larger than the images, 8x8/,
    );
    assertThrows(
      () => new CenterCrop({ height: 4, width: 4, p: 0.5 }).apply(b, new Random(0)),
      RangeError,
      /^CenterCrop: p must be 1 when the transform changes the size .* 8x8 -> 4x4\), got 0.5/,
    );
    const same = new RandomCrop({ height: 8, width: 8, p: 0.5 }).apply(b, new Random(0));
    assert.equal(same.image.shape[2], 8);
    if (same.image !== b.image) done(same);
    done(b);
  });

  tensorTest('RandomResizedCrop equals torchvision resized_crop (bilinear, no antialias) on a fixed box, up and down', () => {
    const c = J.color;
    class Fixed extends RandomResizedCrop {
      box = { y: 0, x: 0, height: 1, width: 1 };
      protected override draw() {
        return this.box;
      }
    }
    const image = torch.tidy(() => torch.arange(240, { dtype: 'float32' }).mul(0.29).sin().add(1).mul(0.5).reshape(c.crop_image));
    for (const [box, size, key] of [
      [{ y: 1, x: 2, height: 5, width: 6 }, [7, 9], 'resized_crop_up'],
      [{ y: 0, x: 1, height: 8, width: 7 }, [3, 4], 'resized_crop_down'],
    ] as const) {
      const t = new Fixed({ size: [...size] });
      t.box = box;
      const out = t.apply(batchOf(image.clone()), new Random(0));
      torch.tidy(() => assertClose(out.image, torch.tensor(Float32Array.from(c[key]), { shape: [1, 3, ...size] }), 2e-6, 1e-6, key));
      assert.deepEqual([...out.mask.shape], [1, ...size]);
      done(out);
    }
    image.dispose();
  });

  tensorTest('RandomResizedCrop: [N, C, h, w] and [N, h, w] out; the mask takes the pixel under each output centre', () => {
    const x = grid(3, 8, 8);
    const out = new RandomResizedCrop({ size: [4, 4], scale: [1, 1], ratio: [1, 1] }).apply(batchOf(x.clone()), new Random(0));
    // The whole 8x8 image to 4x4: output pixel i's centre (i + 0.5) * 2 lies in input pixel 2i + 1.
    torch.tidy(() => {
      const idx = torch.tensor([1, 3, 5, 7]).long();
      assert.deepEqual(list(out.mask), list(x.select(1, 0).indexSelect(1, idx).indexSelect(2, idx).long()));
      // Bilinear halfway between 2i and 2i + 1 (rows and columns): the mean of a 2x2 block.
      assertClose(out.image, F.avgPool2d(x, 2), 1e-5);
    });
    done(out);
    x.dispose();
  });

  tensorTest('RandomResizedCrop falls back to the central crop of the nearest allowed ratio', () => {
    const x = grid(1, 8, 8);
    // Area 1 at ratio 2 never fits a square: after 10 tries, width 8 and height round(8 / 2).
    const out = new RandomResizedCrop({ size: [4, 8], scale: [1, 1], ratio: [2, 2] }).apply(batchOf(x.clone()), new Random(5));
    torch.tidy(() => assertClose(out.image, x.narrow(2, 2, 4), 1e-6));
    done(out);
    x.dispose();
  });
});

describe('PadIfNeeded', () => {
  tensorTest('constant: image gets fill, mask gets ignoreIndex; the image sits at the position asked', () => {
    const x = grid(2, 2, 3);
    const out = new PadIfNeeded({ minHeight: 4, minWidth: 4, fill: 0.5, ignoreIndex: 99 }).apply(batchOf(x.clone()), new Random(0));
    torch.tidy(() =>
      assert.deepEqual(list(out.image.select(0, 0).select(0, 0)), [
        [0.5, 0.5, 0.5, 0.5],
        [0, 1, 2, 0.5],
        [3, 4, 5, 0.5],
        [0.5, 0.5, 0.5, 0.5],
      ]),
    );
    torch.tidy(() =>
      assert.deepEqual(list(out.mask.select(0, 1)), [
        [99, 99, 99, 99],
        [6, 7, 8, 99],
        [9, 10, 11, 99],
        [99, 99, 99, 99],
      ]),
    );
    done(out);
    const corner = new PadIfNeeded({ minHeight: 3, minWidth: 4, position: 'bottom_right' }).apply(batchOf(x.clone()), new Random(0));
    torch.tidy(() =>
      assert.deepEqual(list(corner.mask.select(0, 0)), [
        [255, 255, 255, 255],
        [255, 0, 1, 2],
        [255, 3, 4, 5],
      ]),
    );
    done(corner);
    x.dispose();
  });

  tensorTest('border modes follow OpenCV: reflect101 dcb|abcd, reflect cba|abc, replicate aaa|abc, wrap abc|abc', () => {
    const x = torch.tensor([0, 1, 2, 3], { shape: [1, 1, 1, 4] });
    const row = (mode: 'reflect101' | 'reflect' | 'replicate' | 'wrap'): number[] => {
      const out = new PadIfNeeded({ minHeight: 1, minWidth: 10, borderMode: mode }).apply(batchOf(x.clone()), new Random(0));
      const v = Array.from(out.image.toArray() as Float32Array);
      assert.deepEqual(Array.from(out.mask.toArray() as BigInt64Array, Number), v, `${mode}: mask follows the image`);
      done(out);
      return v;
    };
    assert.deepEqual(row('reflect101'), [3, 2, 1, 0, 1, 2, 3, 2, 1, 0]);
    assert.deepEqual(row('reflect'), [2, 1, 0, 0, 1, 2, 3, 3, 2, 1]);
    assert.deepEqual(row('replicate'), [0, 0, 0, 0, 1, 2, 3, 3, 3, 3]);
    assert.deepEqual(row('wrap'), [1, 2, 3, 0, 1, 2, 3, 0, 1, 2]);
    x.dispose();
  });

  tensorTest('divisors pad up to the next multiple; random positions are drawn per sample', () => {
    const x = grid(6, 5, 7);
    const div = new PadIfNeeded({ padHeightDivisor: 4, padWidthDivisor: 8 }).apply(batchOf(x.clone()), new Random(0));
    assert.deepEqual([...div.image.shape], [6, 1, 8, 8]);
    done(div);
    const out = new PadIfNeeded({ minHeight: 9, minWidth: 9, position: 'random' }).apply(batchOf(x.clone()), new Random(2));
    const replay = new Random(2);
    const seen = new Set<string>();
    torch.tidy(() => {
      for (let i = 0; i < 6; i++) {
        replay.next();
        const top = replay.int(5);
        const left = replay.int(3);
        seen.add(`${top},${left}`);
        assert.deepEqual(list(out.image.select(0, i).narrow(1, top, 5).narrow(2, left, 7)), list(x.select(0, i)), `sample ${i}`);
        assert.equal(out.mask.select(0, i).eq(255).sum().item(), 81 - 35);
      }
    });
    assert.ok(seen.size > 1);
    done(out);
    x.dispose();
  });
});

describe('ShiftScaleRotate', () => {
  const fixed = (o: object) => new ShiftScaleRotate({ shiftLimit: [0, 0], scaleLimit: [0, 0], rotateLimit: [0, 0], p: 1, ...o });

  tensorTest('a 90 degree turn about the centre is r90 (counter-clockwise), for image and mask', () => {
    const x = grid(2, 6, 6);
    const out = fixed({ rotateLimit: [90, 90] }).apply(batchOf(x.clone()), new Random(0));
    torch.tidy(() => {
      assertClose(out.image, applyD4(x, 'r90'), 1e-4);
      assert.deepEqual(list(out.mask), list(applyD4(x.select(1, 0).long(), 'r90')));
    });
    done(out);
    x.dispose();
  });

  tensorTest('a shift of a quarter of the width moves 2 pixels; what comes from outside is fill / ignoreIndex', () => {
    const x = torch.tidy(() => grid(1, 2, 8).add(1));
    const out = fixed({ shiftLimitX: [0.25, 0.25], fill: 0 }).apply(batchOf(x.clone()), new Random(0));
    torch.tidy(() => {
      assertClose(
        out.image.select(0, 0).select(0, 0),
        torch.tensor([
          [0, 0, 1, 2, 3, 4, 5, 6],
          [0, 0, 9, 10, 11, 12, 13, 14],
        ]),
        1e-5,
      );
      assert.deepEqual(list(out.mask.select(0, 0)), [
        [255, 255, 1, 2, 3, 4, 5, 6],
        [255, 255, 9, 10, 11, 12, 13, 14],
      ]);
    });
    done(out);
    for (const [mode, first] of [
      ['reflect101', [3, 2]],
      ['reflect', [2, 1]],
      ['replicate', [1, 1]],
    ] as const) {
      const m = fixed({ shiftLimitX: [0.25, 0.25], borderMode: mode }).apply(batchOf(x.clone()), new Random(0));
      torch.tidy(() => {
        assertClose(m.image.select(0, 0).select(0, 0).select(0, 0).narrow(0, 0, 4), torch.tensor([...first, 1, 2]), 1e-4, 0, mode);
        assert.deepEqual((list(m.mask) as number[][][])[0]![0]!.slice(0, 4), [...first, 1, 2], mode);
      });
      done(m);
    }
    x.dispose();
  });

  tensorTest('a float multilabel mask is warped by nearest and gets ignoreIndex outside', () => {
    const x = grid(1, 4, 4);
    const mask = torch.tidy(() => torch.stack([x.select(1, 0).gt(7), x.select(1, 0).le(7)], 1).float());
    const out = fixed({ shiftLimitY: [0.5, 0.5] }).apply({ image: x.clone(), mask: mask.clone(), meta: meta(1) }, new Random(0));
    torch.tidy(() => {
      assert.deepEqual(list(out.mask.select(3, 0)), [
        [
          [255, 255, 0, 0],
          [255, 255, 1, 1],
        ],
      ]);
      assert.equal(out.mask.dtype, 'float32');
    });
    done(out);
    mask.dispose();
    x.dispose();
  });
});
