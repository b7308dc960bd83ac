// metrics.getStats and the scores of smp's metrics.functional on hand-computed cases, and the
// errors bad input gets. (Parity with smp's own code: metrics-smp.test.ts.)
import assert from 'node:assert/strict';
import { describe } from 'node:test';
import { torch, type Tensor } from '../src/index.js';
import * as metrics from '../src/metrics/index.js';
import { assertThrows, tensorTest } from './helpers.js';

describe('metrics.getStats: hand-computed counts', () => {
  tensorTest('binary with a threshold: one image with a hit, a miss, a false alarm; one empty image', () => {
    torch.tidy(() => {
      const output = torch.tensor([
        [
          [
            [0.9, 0.2],
            [0.6, 0.1],
          ],
        ],
        [
          [
            [0.1, 0.4],
            [0.3, 0.0],
          ],
        ],
      ]);
      const target = torch.tensor(
        [
          [
            [
              [1, 0],
              [0, 1],
            ],
          ],
          [
            [
              [0, 0],
              [0, 0],
            ],
          ],
        ],
        { dtype: 'int64' },
      );
      const s = metrics.getStats(output, target, { mode: 'binary', threshold: 0.5 });
      assert.deepEqual(
        [s.tp, s.fp, s.fn, s.tn].map((t) => t.tolist()),
        [
          [[1], [0]],
          [[1], [0]],
          [[1], [0]],
          [[1], [4]],
        ],
      );
      // 0.5 itself counts as positive (>=)
      const edge = metrics.getStats(torch.tensor([[[0.5]]]), torch.tensor([[[1]]], { dtype: 'int64' }), { mode: 'binary', threshold: 0.5 });
      assert.equal(edge.tp.item(), 1);
    });
  });

  tensorTest('full masks, empty prediction, one pixel', () => {
    torch.tidy(() => {
      const full = torch.ones([1, 1, 3, 3], { dtype: 'uint8' });
      const empty = torch.zeros([1, 1, 3, 3], { dtype: 'uint8' });
      const onePixel = torch.tensor(Uint8Array.from([0, 0, 0, 0, 1, 0, 0, 0, 0]), { shape: [1, 1, 3, 3] });
      const stats = (o: Tensor, t: Tensor) => {
        const s = metrics.getStats(o, t, { mode: 'binary' });
        return [s.tp, s.fp, s.fn, s.tn].map((x) => x.item());
      };
      assert.deepEqual(stats(full, full), [9, 0, 0, 0]);
      assert.deepEqual(stats(empty, full), [0, 0, 9, 0]);
      assert.deepEqual(stats(full, empty), [0, 9, 0, 0]);
      assert.deepEqual(stats(empty, empty), [0, 0, 0, 9]);
      assert.deepEqual(stats(onePixel, onePixel), [1, 0, 0, 8]);
      assert.deepEqual(stats(onePixel, full), [1, 0, 8, 0]);
      // and their scores: empty vs empty is 0/0 (zeroDivision), empty prediction scores 0
      const s = metrics.getStats(empty, empty, { mode: 'binary' });
      assert.equal(metrics.iouScore(s, { reduction: 'micro-imagewise' }).item(), 1);
      assert.equal(metrics.iouScore(s, { reduction: 'micro-imagewise', zeroDivision: 0 }).item(), 0);
      assert.ok(Number.isNaN(metrics.iouScore(s, { reduction: 'micro' }).item()), 'micro has no zero-division rule in smp: 0/0 stays NaN');
      assert.equal(metrics.accuracy(s, { reduction: 'micro' }).item(), 1);
      const miss = metrics.getStats(empty, full, { mode: 'binary' });
      assert.equal(metrics.iouScore(miss, { reduction: 'micro' }).item(), 0);
      assert.equal(metrics.recall(miss, { reduction: 'micro' }).item(), 0);
      assert.equal(metrics.precision(miss, { reduction: 'micro-imagewise' }).item(), 1, 'precision 0/0 -> zeroDivision 1');
      const px = metrics.getStats(onePixel, full, { mode: 'binary' });
      assert.equal(metrics.iouScore(px, { reduction: 'micro' }).item(), Math.fround(1 / 9));
      assert.equal(metrics.f1Score(px, { reduction: 'micro' }).item(), Math.fround(2 / 10));
      assert.equal(metrics.fbetaScore(px, { reduction: 'micro', beta: 2 }).item(), Math.fround(5 / (5 + 4 * 8)));
    });
  });

  tensorTest('multiclass with ignored pixels: they count nowhere, whatever the prediction there', () => {
    torch.tidy(() => {
      // classes 0..2; the last two pixels are ignored (255); the prediction there is 2 and 0
      const output = torch.tensor([[0, 1, 2, 2, 0]], { dtype: 'int64' });
      const target = torch.tensor([[0, 1, 1, 255, 255]], { dtype: 'int64' });
      const s = metrics.getStats(output, target, { mode: 'multiclass', numClasses: 3, ignoreIndex: 255 });
      assert.deepEqual(s.tp.tolist(), [[1, 1, 0]]);
      assert.deepEqual(s.fp.tolist(), [[0, 0, 1]]);
      assert.deepEqual(s.fn.tolist(), [[0, 1, 0]]);
      assert.deepEqual(s.tn.tolist(), [[2, 1, 2]]);
      // uint8 targets with ignoreIndex -1: -1 is no uint8 value, so nothing is ignored (libtorch would read it as 255)
      const u8 = metrics.getStats(
        torch.tensor(Uint8Array.from([0, 1]), { shape: [1, 2] }),
        torch.tensor(Uint8Array.from([0, 1]), { shape: [1, 2] }),
        { mode: 'multiclass', numClasses: 2, ignoreIndex: -1 },
      );
      assert.deepEqual(u8.tp.tolist(), [[1, 1]]);
    });
  });

  tensorTest('binary and multilabel accept ignoreIndex (smp refuses it): those pixels count nowhere', () => {
    torch.tidy(() => {
      const output = torch.tensor([[[1, 1, 0, 1]]], { dtype: 'int64' });
      const target = torch.tensor([[[1, 255, 255, 0]]], { dtype: 'int64' });
      const s = metrics.getStats(output, target, { mode: 'binary', ignoreIndex: 255 });
      assert.deepEqual(
        [s.tp, s.fp, s.fn, s.tn].map((t) => t.item()),
        [1, 1, 0, 0],
      );
      const ml = metrics.getStats(
        torch.tensor([
          [
            [0.9, 0.9],
            [0.1, 0.9],
          ],
        ]),
        torch.tensor(
          [
            [
              [255, 1],
              [0, 255],
            ],
          ],
          { dtype: 'int64' },
        ),
        { mode: 'multilabel', threshold: 0.5, ignoreIndex: 255 },
      );
      assert.deepEqual(
        [ml.tp, ml.fp, ml.fn, ml.tn].map((t) => t.tolist()),
        [[[1, 0]], [[0, 0]], [[0, 0]], [[0, 1]]],
      );
    });
  });

  tensorTest('reductions by hand: two images, two classes, classWeights', () => {
    torch.tidy(() => {
      const t = (rows: number[][]) => torch.tensor(BigInt64Array.from(rows.flat(), BigInt), { shape: [2, 2] });
      // IoU per image and class: [[1/2, 0/0], [1/4, 3/3]]
      const tp = t([
        [1, 0],
        [1, 3],
      ]);
      const fp = t([
        [1, 0],
        [2, 0],
      ]);
      const fn = t([
        [0, 0],
        [1, 0],
      ]);
      const tn = t([
        [2, 4],
        [0, 1],
      ]);
      const iou = (o: metrics.MetricOptions) => metrics.iouScore(tp, fp, fn, tn, o);
      assert.deepEqual(iou({ reduction: 'none' }).tolist(), [
        [0.5, 1],
        [0.25, 1],
      ]);
      assert.equal(iou({ reduction: 'micro' }).item(), Math.fround(5 / 9));
      assert.equal(iou({ reduction: 'macro' }).item(), Math.fround((2 / 6 + 3 / 3) / 2));
      assert.equal(iou({ reduction: 'micro-imagewise' }).item(), Math.fround((1 / 2 + 4 / 7) / 2));
      assert.equal(iou({ reduction: 'macro-imagewise' }).item(), Math.fround(((0.5 + 0.25) / 2 + (1 + 1) / 2) / 2));
      assert.equal(iou({ reduction: 'weighted', classWeights: [1, 3] }).item(), Math.fround((1 * (1 / 3) + 3 * 1) / 4));
      assert.deepEqual(iou({ reduction: null }).tolist(), [
        [0.5, 1],
        [0.25, 1],
      ]);
    });
  });
});

describe('metrics.getStats and the scores: errors', () => {
  tensorTest('bad mode, shapes, dtypes and options', () => {
    torch.tidy(() => {
      const f = torch.rand([2, 1, 4, 4]);
      const i = torch.zeros([2, 1, 4, 4], { dtype: 'int64' });
      assertThrows(
        () => metrics.getStats(f, i, { mode: 'binay' as 'binary' }),
        TypeError,
        /getStats: mode must be one of 'binary', 'multilabel', 'multiclass', got 'binay'/,
      );
      assertThrows(() => metrics.getStats(f, i, undefined as never), TypeError, /mode must be one of/);
      assertThrows(
        () => metrics.getStats(f, i, { mode: 'binary' }),
        TypeError,
        /output must be an integer or bool tensor when no threshold is given.*got 'a float32 tensor'/,
      );
      assertThrows(
        () => metrics.getStats(i, f, { mode: 'binary', threshold: 0.5 }),
        TypeError,
        /target must be an integer or bool tensor.*got 'a float32 tensor'/,
      );
      assertThrows(
        () => metrics.getStats(torch.rand([2, 4, 4]), torch.zeros([2, 4, 4], { dtype: 'int64' }), { mode: 'multiclass', numClasses: 3 }),
        TypeError,
        /output must be an integer tensor of class indices in 'multiclass' mode \(take output.argmax/,
      );
      assertThrows(
        () => metrics.getStats(f, torch.zeros([2, 1, 4, 5], { dtype: 'int64' }), { mode: 'binary', threshold: 0.5 }),
        RangeError,
        /output shape \[2, 1, 4, 4\] must equal target shape \[2, 1, 4, 5\]/,
      );
      assertThrows(
        () => metrics.getStats(torch.rand([2, 3, 4]), torch.zeros([2, 3, 4], { dtype: 'int64' }), { mode: 'binary', threshold: 0.5 }),
        RangeError,
        /\(N, 1, \.\.\.\) in 'binary' mode/,
      );
      assertThrows(
        () => metrics.getStats(i, i, { mode: 'multiclass' }),
        TypeError,
        /numClasses must be a positive integer in 'multiclass' mode, got null/,
      );
      assertThrows(
        () => metrics.getStats(i, i, { mode: 'multiclass', numClasses: 3, ignoreIndex: 1 }),
        RangeError,
        /ignoreIndex must be outside the class values 0\.\.2/,
      );
      assertThrows(
        () => metrics.getStats(i, i, { mode: 'multiclass', numClasses: 3, threshold: 0.5 }),
        TypeError,
        /threshold must be null in 'multiclass' mode/,
      );
      assertThrows(() => metrics.getStats(i, i, { mode: 'binary', ignoreIndex: 1 }), RangeError, /ignoreIndex must be neither 0 nor 1/);
      assertThrows(
        () => metrics.getStats(i, i, { mode: 'binary', treshold: 0.5 } as never),
        TypeError,
        /unknown option 'treshold'.*did you mean 'threshold'/,
      );
      assertThrows(
        () => metrics.getStats(i.add(2), i, { mode: 'binary' }),
        RangeError,
        /output values must be 0 or 1 without a threshold, got values from 2 to 2/,
      );
      assertThrows(
        () => metrics.getStats(i, i.add(7), { mode: 'multiclass', numClasses: 3 }),
        RangeError,
        /target values must be class indices 0\.\.2, got values from 7 to 7/,
      );
      assertThrows(
        () => metrics.getStats(i.sub(1), i, { mode: 'multiclass', numClasses: 3, ignoreIndex: 255 }),
        RangeError,
        /output values must be class indices 0\.\.2 \(where target is not ignoreIndex\), got values from -1 to -1/,
      );
      assertThrows(() => metrics.getStats([1] as never, i, { mode: 'binary' }), TypeError, /getStats: output must be a Tensor, got \[1\]/);
    });
  });

  tensorTest('the scores: bad counts, reduction, classWeights, zeroDivision', () => {
    torch.tidy(() => {
      const s = metrics.getStats(torch.zeros([2, 3], { dtype: 'int64' }), torch.zeros([2, 3], { dtype: 'int64' }), {
        mode: 'multiclass',
        numClasses: 3,
      });
      assertThrows(
        () => metrics.iouScore(s, { reduction: 'mean' as never }),
        TypeError,
        /iouScore: reduction must be one of 'micro', 'macro'.*got 'mean'/,
      );
      assertThrows(
        () => metrics.iouScore(s, { reduction: 'weighted' }),
        TypeError,
        /classWeights must be one weight per class for reduction 'weighted', got undefined/,
      );
      assertThrows(
        () => metrics.iouScore(s, { reduction: 'weighted', classWeights: [1, 2] }),
        RangeError,
        /classWeights must be an array of 3 numbers \(one per class of the counts\), got \[1, 2\]/,
      );
      assertThrows(
        () => metrics.iouScore(s, { reduction: 'macro', classWeights: [1, -2, 1] }),
        RangeError,
        /classWeights must be an array of .* non-negative numbers/,
      );
      assertThrows(
        () => metrics.iouScore(s, { zeroDivision: 'ignore' as never }),
        TypeError,
        /zeroDivision must be a number, got 'ignore'/,
      );
      assertThrows(() => metrics.fbetaScore(s, { beta: -1 }), RangeError, /fbetaScore: beta must be a non-negative number, got -1/);
      assertThrows(() => metrics.iouScore(s, { beta: 2 } as never), TypeError, /unknown option 'beta'/);
      assertThrows(
        () => metrics.iouScore(s.tp, s.fp, s.fn, undefined as never),
        TypeError,
        /iouScore: tn must be an integer Tensor of shape \(N, C\), got undefined/,
      );
      assertThrows(() => metrics.iouScore({ ...s, tn: s.tn.float() }), TypeError, /tn must be an integer Tensor .* got 'a float32 tensor'/);
      assertThrows(
        () => metrics.iouScore({ ...s, fp: s.fp.reshape([3, 2]) }),
        RangeError,
        /fp shape \[3, 2\] must equal tp shape \[2, 3\]/,
      );
      assertThrows(() => metrics.iouScore(5 as never), TypeError, /iouScore: stats must be the \{ tp, fp, fn, tn \} of metrics.getStats/);
    });
  });
});
