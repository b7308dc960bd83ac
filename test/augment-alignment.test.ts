// Alignment of image and mask after every geometric augmentation (src/data/augment), on real
// tiles (test/data/oam-catanduanes) and a smooth synthetic image: the mask is the image's own
// first channel thresholded at 0.5, and after the transform it must still be that computation
// on the transformed image. Also: the georeference in meta follows the pixels.
import { before, describe } from 'node:test';
import assert from 'node:assert/strict';
import { torch, type Tensor } from '../src/index.js';
import { Random } from '../src/data/random.js';
import type { Batch } from '../src/data/dataset.js';
import {
  CenterCrop,
  D4,
  HorizontalFlip,
  PadIfNeeded,
  RandomCrop,
  RandomResizedCrop,
  RandomRotate90,
  ShiftScaleRotate,
  Transpose,
  VerticalFlip,
  type Transform,
} from '../src/data/augment/index.js';
import { tensorTest } from './helpers.js';
import { alignment, loadTiles, meta, selfMaskBatch, smoothImage } from './augment-helpers.js';

const grid = (n: number, h: number, w: number): Tensor =>
  torch.tidy(() => torch.arange(n * h * w, { dtype: 'float32' }).reshape([n, 1, h, w]));
const done = (b: Batch): void => {
  b.image.dispose();
  b.mask.dispose();
};

let tiles: Float32Array;
before(async () => {
  tiles = (await loadTiles(8)).data;
});
const tileBatch = (): Batch => selfMaskBatch(torch.tensor(tiles, { shape: [8, 3, 256, 256] }));

describe('alignment of image and mask on real tiles', () => {
  const exact: [string, () => Transform][] = [
    ['HorizontalFlip', () => new HorizontalFlip()],
    ['VerticalFlip', () => new VerticalFlip()],
    ['Transpose', () => new Transpose()],
    ['RandomRotate90', () => new RandomRotate90()],
    ['D4', () => new D4()],
    ['RandomCrop', () => new RandomCrop({ height: 200, width: 160 })],
    ['CenterCrop', () => new CenterCrop({ height: 128, width: 100 })],
    ['PadIfNeeded constant', () => new PadIfNeeded({ minHeight: 300, minWidth: 280 })],
    ['PadIfNeeded reflect, random', () => new PadIfNeeded({ minHeight: 300, minWidth: 300, position: 'random', borderMode: 'reflect' })],
    ['PadIfNeeded reflect101', () => new PadIfNeeded({ minHeight: 300, minWidth: 300, borderMode: 'reflect101' })],
  ];
  for (const [name, make] of exact) {
    tensorTest(`${name}: mask == image[0] > 0.5 on every pixel`, () => {
      const out = make().apply(tileBatch(), new Random(4));
      const a = alignment(out);
      assert.ok(a.compared > 0);
      assert.equal(a.mismatched, 0, `${name}: ${a.mismatched} of ${a.compared} pixels disagree`);
      done(out);
    });
  }

  // Interpolated images: a pixel whose interpolated value crosses 0.5 differently from its
  // nearest source pixel disagrees, near the label boundaries or the edge of the valid region.
  // Measured with these seeds: 1.3-1.5% of the pixels on the tiles (a textured threshold has
  // boundaries everywhere), 0.3-0.9% on the smooth image; beyond 2 pixels of any boundary, at
  // most 0.011% on the tiles (bicubic ringing, source specks a zoom-out skips) and 1 pixel in
  // 65536 on the smooth image.
  const warps: [string, () => Transform][] = [
    ['ShiftScaleRotate', () => new ShiftScaleRotate({ p: 1 })],
    ['ShiftScaleRotate reflect101, bicubic', () => new ShiftScaleRotate({ p: 1, borderMode: 'reflect101', interpolation: 'bicubic' })],
    ['RandomResizedCrop', () => new RandomResizedCrop({ size: [224, 224], scale: [0.5, 1] })],
  ];
  for (const [name, make] of warps) {
    tensorTest(`${name}: under 2% of pixels disagree on tiles, 1.2% on a smooth image, nearly all within 2 px of a boundary`, () => {
      const out = make().apply(tileBatch(), new Random(4));
      const a = alignment(out, 2);
      assert.ok(a.mismatched / a.compared < 0.02, `${name}: ${a.mismatched} of ${a.compared} disagree on the tiles`);
      assert.ok(a.offBoundary / a.compared < 2e-4, `${name}: ${a.offBoundary} of ${a.compared} disagree away from boundaries`);
      done(out);
      const smooth = make().apply(selfMaskBatch(smoothImage(4, 3, 128, 128)), new Random(4));
      const s = alignment(smooth, 2);
      assert.ok(s.mismatched / s.compared < 0.012, `${name}: ${s.mismatched} of ${s.compared} disagree on the smooth image`);
      assert.ok(s.offBoundary / s.compared < 1e-4, `${name}: ${s.offBoundary} of ${s.compared} disagree away from boundaries`);
      done(smooth);
    });
  }
});

describe('multilabel masks', () => {
  tensorTest('a float [N, K, H, W] mask (K = image channels > 0.5) follows the image exactly through D4, crops and pads', () => {
    const transforms: Transform[] = [
      new D4(),
      new RandomCrop({ height: 100, width: 120 }),
      new PadIfNeeded({ minHeight: 300, minWidth: 300, position: 'random', borderMode: 'reflect' }),
      new PadIfNeeded({ minHeight: 300, minWidth: 300, borderMode: 'reflect101' }),
      new RandomResizedCrop({ size: [64, 64], interpolation: 'nearest' }),
    ];
    for (const t of transforms) {
      const image = torch.tensor(tiles, { shape: [8, 3, 256, 256] });
      const mask = torch.tidy(() => image.gt(0.5).float());
      const out = t.apply({ image, mask, meta: meta(8) }, new Random(7));
      torch.tidy(() => {
        assert.equal(out.mask.dtype, 'float32');
        assert.ok(out.mask.equal(out.image.gt(0.5).float()), `${t.name}: every channel of the mask matches its image channel`);
      });
      done(out);
    }
  });
});

describe('meta: the georeference follows the pixels', () => {
  const geo = (): Batch['meta'] => [
    {
      name: 'a',
      path: 'a.tif',
      window: { x: 100, y: 50, width: 8, height: 8 },
      transform: [1000, 0.5, 0, 2000, 0, -0.5],
      crs: 'EPSG:32616',
    },
  ];
  tensorTest('crops and pads shift window and transform; flips compose the transform and drop the window', () => {
    const x = grid(1, 8, 8);
    const zeros = (): Tensor => torch.zeros([1, 8, 8], { dtype: 'int64' });
    const crop = new CenterCrop({ height: 4, width: 6 }).apply({ image: x.clone(), mask: zeros(), meta: geo() }, new Random(0));
    assert.deepEqual(crop.meta[0]!.window, { x: 101, y: 52, width: 6, height: 4 });
    assert.deepEqual(crop.meta[0]!.transform, [1000.5, 0.5, 0, 1999, 0, -0.5]);
    assert.equal(crop.meta[0]!.crs, 'EPSG:32616');
    done(crop);
    const pad = new PadIfNeeded({ minHeight: 10, minWidth: 8 }).apply({ image: x.clone(), mask: zeros(), meta: geo() }, new Random(0));
    assert.deepEqual(pad.meta[0]!.window, { x: 100, y: 49, width: 8, height: 10 });
    done(pad);
    const flip = new HorizontalFlip({ p: 1 }).apply({ image: x.clone(), mask: zeros(), meta: geo() }, new Random(0));
    // Output column 0 is input column 7: its left edge sits at the input's right edge, x = 1004.
    assert.deepEqual(flip.meta[0]!.transform, [1004, -0.5, 0, 2000, 0, -0.5]);
    assert.equal(flip.meta[0]!.window, undefined);
    done(flip);
    const turn = new ShiftScaleRotate({ shiftLimit: 0, scaleLimit: 0, rotateLimit: [90, 90], p: 1 }).apply(
      { image: x.clone(), mask: zeros(), meta: geo() },
      new Random(0),
    );
    const t = turn.meta[0]!.transform!.map((v) => Math.round(v * 1e9) / 1e9 + 0);
    // r90 counter-clockwise: output (0, 0) is the input's top-right corner; going right in the
    // output goes down the input's right column, going down goes left along its top row.
    assert.deepEqual(t, [1004, 0, -0.5, 2000, -0.5, 0]);
    done(turn);
    x.dispose();
  });
});
