// The boundary F-score: DAVIS's boundary map by hand, the distance transform against brute
// force, and the nine SpaceNet tiles against DAVIS's f_measure (scripts/fixtures/make_metric_fixtures.py).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { decode } from 'fast-png';
import { torch } from '../src/index.js';
import * as metrics from '../src/metrics/index.js';
import { FIXTURES, assertThrows, tensorTest } from './helpers.js';

const DIR = join(FIXTURES, 'metrics');
const SN = JSON.parse(readFileSync(join(DIR, 'spacenet.json'), 'utf8'));

function png(name: string): Uint8Array {
  return Uint8Array.from(decode(readFileSync(join(DIR, name))).data as Uint8Array, (v) => (v > 127 ? 1 : 0));
}

function tile(m: Uint8Array, x0: number, y0: number, size: number): Uint8Array {
  const out = new Uint8Array(size * size);
  for (let y = 0; y < size; y++) out.set(m.subarray((y0 + y) * SN.width + x0, (y0 + y) * SN.width + x0 + size), y * size);
  return out;
}

/** A w x h mask with the rectangle [x0, x1] x [y0, y1] set. */
function rect(w: number, h: number, x0: number, x1: number, y0: number, y1: number): Uint8Array {
  const m = new Uint8Array(w * h);
  for (let y = y0; y <= y1; y++) for (let x = x0; x <= x1; x++) m[y * w + x] = 1;
  return m;
}

const ones = (m: Uint8Array) => [...m.keys()].filter((i) => m[i] !== 0);

describe('metrics.boundaryMap (DAVIS seg2bmap)', () => {
  test('one pixel, a square, a full and an empty mask', () => {
    assert.deepEqual(ones(metrics.boundaryMap(rect(3, 3, 1, 1, 1, 1), 3, 3)), [0, 1, 3, 4], 'the pixel and its upper-left neighbours');
    // the boundary of the square [2, 5]^2 is the ring around [1, 5]^2: 16 pixels
    const ring = metrics.boundaryMap(rect(10, 10, 2, 5, 2, 5), 10, 10);
    assert.equal(ones(ring).length, 16);
    assert.deepEqual(
      ones(ring),
      ones(rect(10, 10, 1, 5, 1, 5)).filter((i) => !rect(10, 10, 2, 4, 2, 4)[i]),
    );
    assert.deepEqual(ones(metrics.boundaryMap(rect(4, 3, 0, 3, 0, 2), 4, 3)), [], 'the image border is no boundary');
    assert.deepEqual(ones(metrics.boundaryMap(new Uint8Array(12), 4, 3)), []);
    assert.deepEqual(ones(metrics.boundaryMap(rect(4, 3, 3, 3, 2, 2), 4, 3)), [6, 7, 10], 'a corner pixel is no boundary itself');
  });
});

describe('metrics.squaredDistanceTransform', () => {
  test('equals brute force on random sparse masks', () => {
    let seed = 7;
    const rand = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
    for (const [w, h, p] of [
      [1, 1, 1],
      [9, 1, 0.3],
      [1, 9, 0.3],
      [23, 17, 0.02],
      [30, 30, 0.1],
    ] as const) {
      const m = Uint8Array.from({ length: w * h }, () => (rand() < p ? 1 : 0));
      const d = metrics.squaredDistanceTransform(m, w, h);
      const feats = ones(m);
      for (let i = 0; i < w * h; i++) {
        const x = i % w;
        const y = (i - x) / w;
        const best = Math.min(...feats.map((j) => ((j % w) - x) ** 2 + (Math.floor(j / w) - y) ** 2));
        if (feats.length === 0) assert.ok(d[i]! >= 1e19, 'no feature: far');
        else assert.equal(d[i], best, `${w}x${h} pixel ${i}`);
      }
    }
  });
});

describe('metrics.matchBoundaries', () => {
  test('hand-computed: a square against itself shifted one pixel, and empty masks', () => {
    const a = rect(10, 10, 2, 5, 2, 5);
    const b = rect(10, 10, 3, 6, 2, 5);
    const exact = metrics.matchBoundaries(b, a, 10, 10, { tolerance: 0 });
    // rings of 16 pixels sharing their top and bottom runs of 4
    assert.deepEqual(
      [exact.predBoundary, exact.truthBoundary, exact.predMatched, exact.truthMatched, exact.precision, exact.recall, exact.f],
      [16, 16, 8, 8, 0.5, 0.5, 0.5],
    );
    assert.equal(metrics.matchBoundaries(b, a, 10, 10, { tolerance: 1 }).f, 1);
    assert.equal(metrics.matchBoundaries(b, a, 10, 10).f, 1, 'default tolerance 2');
    const empty = new Uint8Array(100);
    const s = (p: Uint8Array, t: Uint8Array) => {
      const r = metrics.matchBoundaries(p, t, 10, 10);
      return [r.precision, r.recall, r.f];
    };
    assert.deepEqual(s(empty, empty), [1, 1, 1]);
    assert.deepEqual(s(empty, a), [1, 0, 0]);
    assert.deepEqual(s(a, empty), [0, 1, 0]);
    assert.deepEqual(s(a, a), [1, 1, 1]);
    // one pixel against a one-pixel truth two pixels away: out of reach at 1, in reach at 2 (4 boundary pixels each)
    const far = metrics.matchBoundaries(rect(10, 10, 5, 5, 5, 5), rect(10, 10, 7, 7, 5, 5), 10, 10, { tolerance: 1 });
    assert.deepEqual([far.predBoundary, far.predMatched, far.f], [4, 2, 0.5]);
  });

  test('equals DAVIS by brute force (seg2bmap, dilation by a disk) for tolerances 0 to 12, both search paths', () => {
    let seed = 99;
    const rand = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
    const w = 37;
    const h = 29;
    const dilate = (b: Uint8Array, r: number) => {
      const out = new Uint8Array(b.length);
      for (const i of ones(b))
        for (let dy = -r; dy <= r; dy++)
          for (let dx = -r; dx <= r; dx++) {
            const x = (i % w) + dx;
            const y = Math.floor(i / w) + dy;
            if (dx * dx + dy * dy <= r * r && x >= 0 && x < w && y >= 0 && y < h) out[y * w + x] = 1;
          }
      return out;
    };
    for (const p of [0.05, 0.3, 0.5]) {
      const a = Uint8Array.from({ length: w * h }, () => (rand() < p ? 1 : 0));
      const b = Uint8Array.from({ length: w * h }, () => (rand() < p ? 1 : 0));
      const ba = metrics.boundaryMap(a, w, h);
      const bb = metrics.boundaryMap(b, w, h);
      for (let r = 0; r <= 12; r++) {
        const got = metrics.matchBoundaries(a, b, w, h, { tolerance: r });
        const da = dilate(ba, r);
        const db = dilate(bb, r);
        assert.equal(got.predMatched, ones(ba).filter((i) => db[i]).length, `p=${p} r=${r}: prediction side`);
        assert.equal(got.truthMatched, ones(bb).filter((i) => da[i]).length, `p=${p} r=${r}: truth side`);
      }
    }
  });

  test('ignored pixels are cleared in both masks first (DAVIS void pixels)', () => {
    const a = rect(10, 10, 2, 5, 2, 5);
    const spurious = a.slice();
    spurious.set([1, 1], 8 * 10 + 8);
    assert.ok(metrics.matchBoundaries(spurious, a, 10, 10).f < 1);
    const ignore = rect(10, 10, 7, 9, 7, 9);
    assert.equal(metrics.matchBoundaries(spurious, a, 10, 10, { ignore }).f, 1);
  });

  test("the nine SpaceNet tiles equal DAVIS's f_measure for r = 1, 2, 3 (counts exactly, scores to the last bit)", () => {
    const pred = png('pred.png');
    const truth = png('truth.png');
    const t = SN.tileSize as number;
    for (const ref of SN.tiles) {
      for (const r of ['1', '2', '3']) {
        const got = metrics.matchBoundaries(tile(pred, ref.x, ref.y, t), tile(truth, ref.x, ref.y, t), t, t, { tolerance: Number(r) });
        assert.deepEqual({ ...got }, ref.boundary[r], `tile (${ref.x}, ${ref.y}), r = ${r}`);
      }
    }
  });

  test('errors', () => {
    assertThrows(
      () => metrics.matchBoundaries(new Uint8Array(4), new Uint8Array(4), 2, 2, { tolerance: -1 }),
      RangeError,
      /matchBoundaries: tolerance must be a non-negative number, got -1/,
    );
    assertThrows(
      () => metrics.matchBoundaries(new Uint8Array(4), new Uint8Array(4), 2, 2, { ignore: new Uint8Array(3) }),
      RangeError,
      /ignore must hold width \* height = 2 \* 2 = 4 pixels, got 3/,
    );
    assertThrows(
      () => metrics.matchBoundaries(new Uint8Array(4), new Float32Array(4) as never, 2, 2),
      TypeError,
      /truth must be a Uint8Array/,
    );
    assertThrows(
      () => metrics.boundaryMap(new Uint8Array(4), 2.5, 2),
      RangeError,
      /boundaryMap: width must be a non-negative integer, got 2.5/,
    );
  });
});

describe('metrics.boundaryFScore on tensors', () => {
  tensorTest('a batch of the nine tiles: the mean of the per-tile scores', () => {
    torch.tidy(() => {
      const t = SN.tileSize as number;
      const batch = (m: Uint8Array) =>
        torch
          .tensor(m, { shape: [3, t, 3, t] })
          .permute([0, 2, 1, 3])
          .reshape([9, t, t]);
      const out = batch(png('pred.png'));
      const tgt = batch(png('truth.png'));
      const mean = (k: 'f' | 'precision' | 'recall', r: string) => SN.tiles.reduce((a: number, x: any) => a + x.boundary[r][k], 0) / 9;
      const got = metrics.boundaryFScore(out, tgt);
      assert.ok(Math.abs(got.f - mean('f', '2')) < 1e-15);
      assert.ok(Math.abs(got.precision - mean('precision', '2')) < 1e-15);
      assert.ok(Math.abs(got.recall - mean('recall', '2')) < 1e-15);
      assert.ok(Math.abs(metrics.boundaryFScore(out.unsqueeze(1), tgt, { tolerance: 3 }).f - mean('f', '3')) < 1e-15);
      // probabilities with a threshold; ignoreIndex; errors
      assert.equal(metrics.boundaryFScore(out.float().mul(0.7), tgt, { threshold: 0.5 }).f, got.f);
      const a = torch.tensor(rect(6, 6, 1, 3, 1, 3), { shape: [1, 6, 6] });
      const b = torch.tensor(
        rect(6, 6, 1, 3, 1, 3).map((v, i) => (i === 35 ? 255 : v)),
        { shape: [1, 6, 6] },
      );
      assert.equal(metrics.boundaryFScore(a, b, { ignoreIndex: 255 }).f, 1);
      assertThrows(
        () => metrics.boundaryFScore(a, b),
        RangeError,
        /boundaryFScore: target values must be 0 or 1 without a threshold, got values from 0 to 255/,
      );
      assertThrows(
        () => metrics.boundaryFScore(a, b, { tolerance: 'two' } as never),
        TypeError,
        /boundaryFScore: tolerance must be a non-negative number, got 'two'/,
      );
    });
  });
});
