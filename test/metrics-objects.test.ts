// Connected components, SpaceNet's object F1 on masks and on polygons, and the Tianchi score:
// hand-made masks whose matches are known, brute-force labelling, and the SpaceNet 4 sample
// scored by GDAL/OGR (scripts/fixtures/make_metric_fixtures.py).
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
  const img = decode(readFileSync(join(DIR, name)));
  assert.equal(img.channels, 1);
  return Uint8Array.from(img.data as Uint8Array, (v) => (v > 127 ? 1 : 0));
}

/** A mask from rows of '#' (object) and '.' (background). */
function mask(...rows: string[]): { m: Uint8Array; w: number; h: number } {
  const w = rows[0]!.length;
  return { m: Uint8Array.from(rows.join(''), (c) => (c === '#' ? 1 : 0)), w, h: rows.length };
}

/** Labels by flood fill, for comparison: each pixel's component as the set of its pixels' first index. */
function floodLabels(m: Uint8Array, w: number, h: number, eight: boolean): Int32Array {
  const out = new Int32Array(m.length).fill(-1);
  for (let s = 0; s < m.length; s++) {
    if (!m[s] || out[s] >= 0) continue;
    const stack = [s];
    out[s] = s;
    while (stack.length) {
      const i = stack.pop()!;
      const x = i % w;
      const y = (i - x) / w;
      for (let dy = -1; dy <= 1; dy++)
        for (let dx = -1; dx <= 1; dx++) {
          if ((dx === 0 && dy === 0) || (!eight && dx !== 0 && dy !== 0)) continue;
          const nx = x + dx;
          const ny = y + dy;
          const j = ny * w + nx;
          if (nx >= 0 && nx < w && ny >= 0 && ny < h && m[j] && out[j] < 0) {
            out[j] = s;
            stack.push(j);
          }
        }
    }
  }
  return out;
}

describe('metrics.connectedComponents', () => {
  test('4- and 8-connectivity, raster-order labels, areas', () => {
    const { m, w, h } = mask('#..#', '.#.#', '#..#', '.##.');
    const four = metrics.connectedComponents(m, w, h);
    assert.equal(four.count, 5);
    assert.deepEqual([...four.labels], [1, 0, 0, 2, 0, 3, 0, 2, 4, 0, 0, 2, 0, 5, 5, 0]);
    assert.deepEqual([...four.areas], [1, 3, 1, 1, 2]);
    const eight = metrics.connectedComponents(m, w, h, { connectivity: 8 });
    assert.equal(eight.count, 1, 'the diagonal steps join everything: (3,3) reaches (3,2) and (2,3) reaches the column');
    assert.deepEqual([...eight.areas], [8]);
  });

  test('a U and a spiral: labels merged across rows end up one object numbered by its first pixel', () => {
    const u = mask('#.#.#', '#.#.#', '###.#', '....#');
    const r = metrics.connectedComponents(u.m, u.w, u.h);
    assert.equal(r.count, 2);
    assert.deepEqual([...r.areas], [7, 4]);
    assert.equal(r.labels[0], 1);
    assert.equal(r.labels[4], 2);
    const spiral = mask('######', '#....#', '#.##.#', '#..#.#', '####.#', '.....#');
    assert.equal(metrics.connectedComponents(spiral.m, spiral.w, spiral.h).count, 1);
  });

  test('equals flood fill on random masks of several densities and sizes, both connectivities', () => {
    let seed = 12345;
    const rand = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
    for (const [w, h, p] of [
      [1, 1, 0.5],
      [17, 1, 0.5],
      [1, 13, 0.5],
      [31, 23, 0.3],
      [40, 40, 0.55],
      [64, 48, 0.7],
    ] as const) {
      for (let rep = 0; rep < 4; rep++) {
        const m = Uint8Array.from({ length: w * h }, () => (rand() < p ? 1 : 0));
        for (const eight of [false, true]) {
          const ours = metrics.connectedComponents(m, w, h, { connectivity: eight ? 8 : 4 });
          const ref = floodLabels(m, w, h, eight);
          const roots = [...new Set(ref.filter((v) => v >= 0))];
          assert.equal(ours.count, roots.length, `${w}x${h} p=${p}: count`);
          // same partition: ours[i] == ours[j] exactly when ref[i] == ref[j]; numbered in order of first pixel
          const order = new Map(roots.sort((a, b) => a - b).map((r, k) => [r, k + 1]));
          for (let i = 0; i < m.length; i++) assert.equal(ours.labels[i], ref[i]! < 0 ? 0 : order.get(ref[i]!), `${w}x${h} pixel ${i}`);
        }
      }
    }
  });

  test('errors name the argument', () => {
    assertThrows(() => metrics.connectedComponents([1, 0] as never, 2, 1), TypeError, /connectedComponents: mask must be a Uint8Array/);
    assertThrows(
      () => metrics.connectedComponents(new Uint8Array(5), 2, 3),
      RangeError,
      /mask must hold width \* height = 2 \* 3 = 6 pixels, got 5/,
    );
    assertThrows(
      () => metrics.connectedComponents(new Uint8Array(4), 2, 2, { connectivity: 6 as never }),
      RangeError,
      /connectivity must be 4 or 8, got 6/,
    );
  });
});

describe('metrics.matchObjects: hand-made buildings whose matches are known', () => {
  // truth: A (4x4, 16 px), B (2x4, 8 px) and C (3x2, 6 px) next to each other, D (2x2) alone.
  const truth = mask('####.##.###.', '####.##.###.', '####.##.....', '####.##.....', '............', '.........##.', '.........##.');
  test('identical masks: every building matched with IoU 1', () => {
    const r = metrics.matchObjects(truth.m, truth.m, truth.w, truth.h);
    assert.deepEqual([r.tp, r.fp, r.fn, r.precision, r.recall, r.f1], [4, 0, 0, 1, 1, 1]);
    assert.deepEqual(
      r.matches.map((p) => p.iou),
      [1, 1, 1, 1],
    );
  });

  test('split in two, two merged, one missed, one spurious', () => {
    const pred = mask(
      '##.#.######.', // A split in two (8 + 4 px), B and C merged by a bridge (row 0 col 7)
      '##.#.##.###.',
      '##.#.##.....',
      '##.#.##.....',
      '............',
      '#...........', // D missed; a spurious pixel at the far left
      '............',
    );
    const r = metrics.matchObjects(pred.m, truth.m, truth.w, truth.h);
    // A's left piece: 8 px inside A's 16 -> IoU 0.5 (a match); the right piece: 4/16 (spurious).
    // B+C merged: 8 + 6 + 1 bridge pixel against B: 8/15, a match for B; C stays unmatched.
    assert.equal(r.predCount, 4);
    assert.equal(r.truthCount, 4);
    assert.deepEqual(
      r.matches.map((p) => [p.pred, p.truth, p.iou]),
      [
        [3, 2, 8 / 15],
        [1, 1, 0.5],
      ],
    );
    assert.deepEqual([r.tp, r.fp, r.fn], [2, 2, 2]);
    assert.equal(r.precision, 0.5);
    assert.equal(r.recall, 0.5);
    assert.equal(r.f1, 0.5);
    // a stricter threshold drops the half-covered A
    const strict = metrics.matchObjects(pred.m, truth.m, truth.w, truth.h, { iouThreshold: 0.51 });
    assert.deepEqual([strict.tp, strict.fp, strict.fn], [1, 3, 3]);
  });

  test('one truth overlapped by two candidates goes to the better one; each truth is matched at most once', () => {
    const t = mask('######', '######');
    const p = mask('####.#', '####.#');
    const r = metrics.matchObjects(p.m, t.m, 6, 2, { iouThreshold: 0.1 });
    assert.deepEqual(
      r.matches.map((x) => [x.pred, x.truth, x.iou]),
      [[1, 1, 8 / 12]],
    );
    assert.deepEqual([r.tp, r.fp, r.fn], [1, 1, 0]);
  });

  test('empty masks: 0/0 counts as 1 (no prediction: precision 1; no truth: recall 1)', () => {
    const empty = new Uint8Array(4);
    const one = Uint8Array.from([0, 1, 0, 0]);
    const s = (a: Uint8Array, b: Uint8Array) => {
      const r = metrics.matchObjects(a, b, 2, 2);
      return [r.tp, r.fp, r.fn, r.precision, r.recall, r.f1];
    };
    assert.deepEqual(s(empty, empty), [0, 0, 0, 1, 1, 1]);
    assert.deepEqual(s(empty, one), [0, 0, 1, 1, 0, 0]);
    assert.deepEqual(s(one, empty), [0, 1, 0, 0, 1, 0]);
    assert.deepEqual(s(one, one), [1, 0, 0, 1, 1, 1]);
  });

  test('errors', () => {
    assertThrows(
      () => metrics.matchObjects(new Uint8Array(4), new Uint8Array(3), 2, 2),
      RangeError,
      /matchObjects: truth must hold width \* height/,
    );
    assertThrows(
      () => metrics.matchObjects(new Uint8Array(4), new Uint8Array(4), 2, 2, { iouThreshold: 0 }),
      RangeError,
      /iouThreshold must be a number in \(0, 1\], got 0/,
    );
    assertThrows(
      () => metrics.matchObjects(new Uint8Array(4), new Uint8Array(4), 2, 2, { iou: 0.5 } as never),
      TypeError,
      /unknown option 'iou'/,
    );
  });
});

describe('metrics.objectScore: the SpaceNet 4 sample against GDAL Polygonize + SpaceNet evaluation', () => {
  const truth = png('truth.png');
  const pred = png('pred.png');
  test('the masks are the fixture', () => {
    assert.equal(truth.length, SN.width * SN.height);
    assert.equal(
      truth.reduce((a, b) => a + b, 0),
      SN.truthPixels,
    );
    assert.equal(
      pred.reduce((a, b) => a + b, 0),
      SN.predPixels,
    );
  });

  for (const connectivity of [4, 8] as const) {
    tensorTest(`${connectivity}-connectivity: tp, fp, fn and the matched IoUs equal the reference`, () => {
      const ref = SN.masks[String(connectivity)];
      const m = metrics.matchObjects(pred, truth, SN.width, SN.height, { connectivity });
      assert.deepEqual([m.tp, m.fp, m.fn], [ref.tp, ref.fp, ref.fn]);
      const ious = m.matches.map((p) => p.iou).sort((a, b) => a - b);
      ious.forEach((v, i) => assert.ok(Math.abs(v - ref.ious[i]) < 1e-9, `IoU ${i}: ${v} vs ${ref.ious[i]}`));
      // the tensor entry point over a batch of 1 gives the same counts
      torch.tidy(() => {
        const shape = [1, 1, SN.height, SN.width];
        const r = metrics.objectScore(torch.tensor(pred, { shape }), torch.tensor(truth, { shape }), { connectivity });
        assert.deepEqual([r.tp, r.fp, r.fn], [ref.tp, ref.fp, ref.fn]);
        assert.equal(r.f1, (2 * ref.tp) / (2 * ref.tp + ref.fp + ref.fn));
      });
    });
  }

  tensorTest('objectScore sums counts over the images of a batch; ignored pixels are cleared in both masks', () => {
    torch.tidy(() => {
      const a = mask('##..', '##..', '....', '..##');
      const b = mask('##..', '#...', '....', '....');
      const out = torch.tensor(Uint8Array.from([...a.m, ...b.m]), { shape: [2, 4, 4] });
      const tgt = torch.tensor(Uint8Array.from([...a.m, ...a.m]), { shape: [2, 4, 4] });
      const r = metrics.objectScore(out, tgt);
      // image 0: 2 of 2 matched; image 1: 3/4 of the square matched, the corner square missed
      assert.deepEqual([r.tp, r.fp, r.fn], [3, 0, 1]);
      // ignoring the corner square (255 in the target) removes the miss
      const ignore = torch.tensor(Uint8Array.from([...a.m, ...a.m.map((v, i) => (i === 15 || i === 14 ? 255 : v))]), { shape: [2, 4, 4] });
      const ri = metrics.objectScore(out, ignore, { ignoreIndex: 255 });
      assert.deepEqual([ri.tp, ri.fp, ri.fn], [3, 0, 0]);
      // probabilities need a threshold
      assertThrows(
        () => metrics.objectScore(out.float(), tgt),
        TypeError,
        /objectScore: output must be an integer or bool tensor when no threshold is given/,
      );
      assert.deepEqual(Object.values(metrics.objectScore(out.float().mul(0.8), tgt, { threshold: 0.5 })).slice(0, 3), [3, 0, 1]);
      assertThrows(
        () => metrics.objectScore(out.reshape([2, 1, 1, 4, 4]), tgt),
        RangeError,
        /objectScore: output must be a batch of masks \(N, 1, H, W\) or \(N, H, W\)/,
      );
    });
  });
});

describe('metrics.matchPolygons: the SpaceNet 4 sample against OGR polygon IoU', () => {
  const labels = JSON.parse(readFileSync(join(FIXTURES, '..', 'data', 'spacenet4-atlanta', 'geotiff_labels.geojson'), 'utf8'));
  const gt = SN.geoTransform as number[];
  const truth = labels.features.map((f: any) =>
    f.geometry.coordinates.map((ring: number[][]) => ring.map(([x, y]) => [(x! - gt[0]!) / gt[1]!, (y! - gt[3]!) / gt[5]!])),
  ) as [number, number][][][];
  const proposals = SN.proposals as [number, number][][][];

  test('on a grid of 1/8 pixels, tp, fp, fn and the matched pairs equal SpaceNet evaluation with exact polygon IoU', () => {
    const scale = 8;
    const up = (ps: [number, number][][][]) => ps.map((p) => p.map((r) => r.map(([x, y]) => [x * scale, y * scale] as [number, number])));
    const r = metrics.matchPolygons(up(proposals), up(truth), { width: SN.width * scale, height: SN.height * scale });
    const ref = SN.polygons;
    assert.ok(ref['minDistanceOfAnyIouFrom0.5'] > 0.01, 'no pair sits on the threshold, so rasterising cannot flip a match');
    assert.deepEqual([r.tp, r.fp, r.fn], [ref.tp, ref.fp, ref.fn]);
    // the same pairs, with pixel IoUs within 0.005 of the polygons' (the smallest piece is 6 x 8 px)
    const ours = new Map(r.matches.map((p) => [p.pred, p]));
    for (const [pred, t, iou] of ref.matches as [number, number, number][]) {
      assert.equal(ours.get(pred)?.truth, t, `proposal ${pred}`);
      assert.ok(Math.abs(ours.get(pred)!.iou - iou) < 0.005, `proposal ${pred}: IoU ${ours.get(pred)!.iou} vs polygon ${iou}`);
    }
  });

  test('hand-made squares: overlapping truths keep their own pixels; proposals that burn nothing are left out', () => {
    const sq = (x: number, y: number, s: number): [number, number][][] => [
      [
        [x, y],
        [x + s, y],
        [x + s, y + s],
        [x, y + s],
        [x, y],
      ],
    ];
    const truthSq = [sq(0, 0, 4), sq(2, 0, 4), sq(10, 10, 2)];
    const pred = [sq(2, 0, 4), sq(0.6, 0.6, 0.3), sq(0, 0, 4), sq(20, 20, 3)];
    const r = metrics.matchPolygons(pred, truthSq, { width: 32, height: 32 });
    assert.deepEqual(
      r.matches.map((p) => [p.pred, p.truth, p.iou]),
      [
        [0, 1, 1],
        [2, 0, 1],
      ],
    );
    assert.deepEqual([r.tp, r.fp, r.fn, r.predCount], [2, 1, 1, 3]);
    assertThrows(
      () => metrics.matchPolygons(pred, truthSq, undefined as never),
      TypeError,
      /matchPolygons: options must be an object with width and height/,
    );
    assertThrows(
      () => metrics.matchPolygons([[[[0, Number.NaN]]]], truthSq, { width: 4, height: 4 }),
      TypeError,
      /pred\[0\] must be rings of \[x, y\] points with finite coordinates/,
    );
  });
});

describe('metrics.tianchiScore: mean Dice over images, 1 for empty vs empty', () => {
  tensorTest('hand-computed: empty vs empty, empty prediction, full masks, one pixel, ignored pixels', () => {
    torch.tidy(() => {
      const m = (...v: number[]) => torch.tensor(Uint8Array.from(v), { shape: [1, 2, 2] });
      assert.equal(metrics.tianchiScore(m(0, 0, 0, 0), m(0, 0, 0, 0)), 1);
      assert.equal(metrics.tianchiScore(m(0, 0, 0, 0), m(1, 0, 0, 0)), 0);
      assert.equal(metrics.tianchiScore(m(1, 1, 1, 1), m(1, 1, 1, 1)), 1);
      assert.equal(metrics.tianchiScore(m(1, 0, 0, 0), m(1, 1, 1, 1)), 2 / 5);
      assert.equal(metrics.tianchiScore(m(1, 1, 0, 0), m(1, 0, 0, 0)), 2 / 3);
      // ignoring the one truth pixel the prediction missed
      assert.equal(metrics.tianchiScore(m(1, 0, 0, 0), m(1, 255, 0, 0), { ignoreIndex: 255 }), 1);
      // the mean over a batch: 1 (empty/empty) and 0 (missed)
      const out = torch.tensor(Uint8Array.from([0, 0, 0, 0, 0, 0, 0, 0]), { shape: [2, 1, 2, 2] });
      const tgt = torch.tensor(Uint8Array.from([0, 0, 0, 0, 0, 1, 0, 0]), { shape: [2, 1, 2, 2] });
      assert.equal(metrics.tianchiScore(out, tgt), 0.5);
      assert.equal(metrics.tianchiScore(torch.tensor([[0.7, 0.2]]), torch.tensor([[1, 1]], { dtype: 'int64' }), { threshold: 0.5 }), 2 / 3);
      assertThrows(
        () => metrics.tianchiScore(out, tgt.reshape([2, 4])),
        RangeError,
        /tianchiScore: output shape \[2, 1, 2, 2\] must equal target shape \[2, 4\]/,
      );
      assertThrows(
        () => metrics.tianchiScore(out.float(), tgt),
        TypeError,
        /tianchiScore: output must be an integer or bool tensor when no threshold is given/,
      );
    });
  });

  tensorTest('the nine 300x300 tiles of the SpaceNet masks: equals the reference, and smp f1Score micro-imagewise', () => {
    torch.tidy(() => {
      const t = SN.tileSize as number;
      const tiles = (m: Uint8Array) =>
        torch
          .tensor(m, { shape: [3, t, 3, t] })
          .permute([0, 2, 1, 3])
          .reshape([9, 1, t, t]);
      const out = tiles(png('pred.png'));
      const tgt = tiles(png('truth.png'));
      const score = metrics.tianchiScore(out, tgt);
      assert.ok(Math.abs(score - SN.tianchi) < 1e-15, `${score} vs ${SN.tianchi}`);
      const f1 = metrics.f1Score(metrics.getStats(out, tgt, { mode: 'binary' }), { reduction: 'micro-imagewise' }).item();
      assert.ok(Math.abs(f1 - score) < 1e-6);
    });
  });
});
