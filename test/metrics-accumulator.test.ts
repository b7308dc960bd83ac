// metrics.Accumulator: batch by batch, its scores equal the one-shot functions on the
// concatenated data; it keeps no tensors between calls; bad configurations are refused.
import assert from 'node:assert/strict';
import { describe } from 'node:test';
import { torch, type Tensor } from '../src/index.js';
import * as metrics from '../src/metrics/index.js';
import { assertThrows, tensorTest } from './helpers.js';

const SMP_SCORES = Object.keys({
  fbetaScore: 0,
  f1Score: 0,
  iouScore: 0,
  accuracy: 0,
  precision: 0,
  recall: 0,
  sensitivity: 0,
  specificity: 0,
  balancedAccuracy: 0,
  positivePredictiveValue: 0,
  negativePredictiveValue: 0,
  falseNegativeRate: 0,
  falsePositiveRate: 0,
  falseDiscoveryRate: 0,
  falseOmissionRate: 0,
  positiveLikelihoodRatio: 0,
  negativeLikelihoodRatio: 0,
} satisfies Record<metrics.MetricName, 0>) as metrics.MetricName[];

/** Every smp score under every reduction, named `<score>/<reduction>`. */
function allSpecs(classes: number): metrics.ScoreSpec[] {
  const weights = Array.from({ length: classes }, (_, i) => i + 1);
  return SMP_SCORES.flatMap((score) =>
    metrics.REDUCTIONS.map((reduction) => ({
      score,
      reduction,
      name: `${score}/${reduction}`,
      ...(reduction.startsWith('weighted') ? { classWeights: weights } : {}),
      ...(score === 'fbetaScore' ? { beta: 2 } : {}),
    })),
  );
}

const FUNCTIONS = metrics as unknown as Record<metrics.MetricName, metrics.MetricFunction<metrics.FbetaOptions>>;

/** The one-shot value of a spec on all the data. */
function oneShot(stats: metrics.Stats, spec: metrics.ScoreSpec): number | number[][] {
  return torch.tidy(() => {
    const { score, name: _name, ...options } = spec;
    const r = FUNCTIONS[score as metrics.MetricName](stats, options);
    return options.reduction === 'none' ? (r.tolist() as number[][]) : r.item();
  });
}

function splitBatches(t: Tensor, sizes: number[]): Tensor[] {
  return torch.split(t, sizes, 0);
}

describe('metrics.Accumulator', () => {
  tensorTest('binary: every score in batches of 3, 3 and 4 equals the one-shot functions on all 10 images', () => {
    torch.manualSeed(3);
    torch.tidy(() => {
      const output = torch.rand([10, 1, 24, 24]);
      // two images without buildings, so zero divisions happen
      const target = torch
        .rand([10, 1, 24, 24])
        .gt(0.6)
        .long()
        .mul(torch.tensor([1, 1, 0, 1, 0, 1, 1, 1, 1, 1], { dtype: 'int64' }).reshape([10, 1, 1, 1]));
      const scores: metrics.ScoreSpec[] = [
        ...allSpecs(1),
        { score: 'tianchiScore' },
        { score: 'objectScore' },
        { score: 'boundaryFScore' },
      ];
      const acc = new metrics.Accumulator({
        mode: 'binary',
        threshold: 0.7,
        scores,
        objects: { connectivity: 8 },
        boundary: { tolerance: 1 },
      });
      const sizes = [3, 3, 4];
      const live = torch.liveTensors();
      splitBatches(output, sizes).forEach((o, i) => acc.update(o, splitBatches(target, sizes)[i]!));
      assert.equal(acc.count, 10);
      const got = acc.compute();
      const stats = metrics.getStats(output, target, { mode: 'binary', threshold: 0.7 });
      for (const s of scores.slice(0, -3)) assert.deepEqual(got[s.name!], oneShot(stats, s), s.name);
      assert.equal(got.tianchiScore, metrics.tianchiScore(output, target, { threshold: 0.7 }));
      assert.deepEqual(got.objectScore, metrics.objectScore(output, target, { threshold: 0.7, connectivity: 8 }));
      assert.deepEqual(got.boundaryFScore, metrics.boundaryFScore(output, target, { threshold: 0.7, tolerance: 1 }));
      assert.ok(torch.liveTensors() <= live + 30, 'the accumulator itself holds no tensors');
      // reset forgets the data, keeps the configuration
      acc.reset();
      assert.equal(acc.count, 0);
      assertThrows(() => acc.compute(), Error, /Accumulator.compute: no images yet/);
      acc.update(output, target);
      assert.deepEqual(acc.compute()['iouScore/micro'], oneShot(stats, scores.find((s) => s.name === 'iouScore/micro')!));
    });
  });

  tensorTest('multilabel and multiclass with ignoreIndex: every score, batch by batch, equals one shot', () => {
    torch.manualSeed(4);
    torch.tidy(() => {
      const ml = torch.rand([7, 3, 8, 8]);
      const mlTarget = torch
        .rand([7, 3, 8, 8])
        .gt(0.5)
        .long()
        .maskedFill(torch.rand([7, 3, 8, 8]).lt(0.1), 255);
      const mc = torch.randint(0, 4, [7, 8, 8]);
      const mcTarget = torch.randint(0, 4, [7, 8, 8]).maskedFill(torch.rand([7, 8, 8]).lt(0.2), -1);
      for (const [options, output, target, classes] of [
        [{ mode: 'multilabel', threshold: 0.5, ignoreIndex: 255 }, ml, mlTarget, 3],
        [{ mode: 'multiclass', numClasses: 4, ignoreIndex: -1 }, mc, mcTarget, 4],
      ] as const) {
        const stats = metrics.getStats(output, target, options);
        // with an imagewise reduction it keeps counts per image; without, per class only
        const all = allSpecs(classes);
        for (const scores of [all, all.filter((s) => ['micro', 'macro', 'weighted'].includes(s.reduction!))]) {
          const acc = new metrics.Accumulator({ ...options, scores });
          const sizes = [1, 4, 2];
          splitBatches(output, sizes).forEach((o, i) => acc.update(o, splitBatches(target, sizes)[i]!));
          const got = acc.compute();
          for (const s of scores) assert.deepEqual(got[s.name!], oneShot(stats, s), `${options.mode} ${s.name}`);
        }
      }
    });
  });

  tensorTest("defaults: iouScore and f1Score, reduction 'micro'; top-level options apply to every score without its own", () => {
    torch.tidy(() => {
      const out = torch.tensor(Uint8Array.from([1, 1, 0, 0, 0, 0, 0, 0]), { shape: [2, 1, 2, 2] });
      const tgt = torch.tensor(Uint8Array.from([1, 0, 0, 0, 0, 0, 0, 0]), { shape: [2, 2, 2] });
      const acc = new metrics.Accumulator({ mode: 'binary' });
      acc.update(out, tgt); // (N, H, W) targets are lifted in 'binary' mode
      assert.deepEqual(acc.compute(), { iouScore: Math.fround(1 / 2), f1Score: Math.fround(2 / 3) });
      const imagewise = new metrics.Accumulator({
        mode: 'binary',
        reduction: 'micro-imagewise',
        zeroDivision: 0,
        scores: ['iouScore', { score: 'iouScore', name: 'iouZd1', zeroDivision: 1 }],
      });
      imagewise.update(out, tgt);
      assert.deepEqual(imagewise.compute(), { iouScore: Math.fround(0.25), iouZd1: Math.fround(0.75) });
    });
  });

  tensorTest('errors: configuration, then batches that do not fit', () => {
    torch.tidy(() => {
      const A = (o: unknown) => () => new metrics.Accumulator(o as metrics.AccumulatorOptions);
      assertThrows(
        A({ mode: 'binary', scores: ['iou'] }),
        TypeError,
        /Accumulator: scores\[0\]\.score must be one of 'fbetaScore', .* 'boundaryFScore', got 'iou'/,
      );
      assertThrows(A({ mode: 'binary', scores: [] }), TypeError, /scores must be a non-empty array/);
      assertThrows(
        A({ mode: 'multiclass', numClasses: 3, scores: ['objectScore'] }),
        TypeError,
        /mode must be 'binary' for score 'objectScore' \(it scores building masks\), got 'multiclass'/,
      );
      assertThrows(
        A({ mode: 'multiclass', numClasses: 3, reduction: 'weighted', classWeights: [1, 2] }),
        RangeError,
        /classWeights of score 'iouScore' must be an array of 3 numbers/,
      );
      assertThrows(
        A({ mode: 'binary', scores: ['iouScore', 'iouScore'] }),
        TypeError,
        /Accumulator: scores must have distinct names, got 'iouScore' twice \(give one a name\)/,
      );
      assertThrows(
        A({ mode: 'binary', scores: [{ score: 'iouScore', beta: 2 }] }),
        TypeError,
        /scores\[0\]\.beta must be absent except for 'fbetaScore'/,
      );
      assertThrows(
        A({ mode: 'binary', scores: [{ score: 'tianchiScore', reduction: 'macro' }] }),
        TypeError,
        /scores\[0\]\.reduction must be absent for 'tianchiScore'/,
      );
      assertThrows(
        A({ mode: 'binary', objects: { iouThreshold: 2 } }),
        RangeError,
        /objects\.iouThreshold must be a number in \(0, 1\], got 2/,
      );
      assertThrows(A({ mode: 'binary', boundary: { tol: 2 } }), TypeError, /boundary: unknown option 'tol'/);
      assertThrows(
        A({ mode: 'binary', scores: [{ score: 'iouScore', reduction: 'sum' }] }),
        TypeError,
        /scores\[0\]\.reduction must be one of/,
      );
      const acc = new metrics.Accumulator({ mode: 'multilabel', threshold: 0.5, reduction: 'weighted', classWeights: [1, 2] });
      assertThrows(
        () => acc.update(torch.rand([2, 3, 4, 4]), torch.zeros([2, 3, 4, 4], { dtype: 'int64' })),
        RangeError,
        /classWeights of score 'iouScore' must be an array of 3 numbers/,
      );
      const ml = new metrics.Accumulator({ mode: 'multilabel', threshold: 0.5 });
      ml.update(torch.rand([2, 3, 4, 4]), torch.zeros([2, 3, 4, 4], { dtype: 'int64' }));
      assertThrows(
        () => ml.update(torch.rand([2, 2, 4, 4]), torch.zeros([2, 2, 4, 4], { dtype: 'int64' })),
        RangeError,
        /this batch has 2 classes where the earlier ones had 3/,
      );
      const objects = new metrics.Accumulator({ mode: 'binary', scores: ['objectScore'] });
      assertThrows(
        () => objects.update(torch.zeros([2, 1, 1, 4, 4], { dtype: 'int64' }), torch.zeros([2, 1, 1, 4, 4], { dtype: 'int64' })),
        RangeError,
        /must be a batch of masks \(N, 1, H, W\) or \(N, H, W\) for the object and boundary scores, got shape \[2, 1, 1, 4, 4\]/,
      );
      assertThrows(
        () => objects.update(torch.rand([2, 1, 4, 4]), torch.zeros([2, 1, 4, 4], { dtype: 'int64' })),
        TypeError,
        /Accumulator.update: output must be an integer or bool tensor when no threshold is given/,
      );
    });
  });
});
