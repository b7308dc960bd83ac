// metrics.getStats and the scores of smp's metrics.functional: parity with smp's own code on the
// fixtures of scripts/fixtures/make_metric_fixtures.py (counts exactly, scores bit for bit in
// float32), and zeroDivision 'warn'. (Hand-computed cases and errors: metrics-stats.test.ts.)
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe } from 'node:test';
import { torch, type Tensor } from '../src/index.js';
import * as metrics from '../src/metrics/index.js';
import { FIXTURES, tensorTest } from './helpers.js';

interface Case {
  name: string;
  options: metrics.GetStatsOptions;
  output: { dtype: 'float32' | 'int64'; shape: number[]; values: (string | number)[] };
  target: { dtype: 'int64'; shape: number[]; values: number[] };
  classWeights: number[];
  stats: Record<'tp' | 'fp' | 'fn' | 'tn', number[][]>;
  scores: (string | string[][])[][];
}
interface Fixture {
  sha256: string;
  metrics: { name: metrics.MetricName; smp: string; beta: number | null }[];
  variants: { reduction: metrics.Reduction; classWeights: boolean; zeroDivision: number | 'warn' }[];
  cases: Case[];
}
const FX = JSON.parse(readFileSync(join(FIXTURES, 'metrics', 'smp.json'), 'utf8')) as Fixture;

function inputs(c: Case): [Tensor, Tensor] {
  const o = c.output;
  const output =
    o.dtype === 'float32'
      ? torch.tensor(
          Float32Array.from(o.values, (v) => Number(v)),
          { shape: o.shape },
        )
      : torch.tensor(
          BigInt64Array.from(o.values, (v) => BigInt(v)),
          { shape: o.shape },
        );
  const target = torch.tensor(
    BigInt64Array.from(c.target.values, (v) => BigInt(v)),
    { shape: c.target.shape },
  );
  return [output, target];
}

/** A float32 as the fixture writes it: the shortest decimal, or 'NaN' / 'Infinity'. */
const f32 = (s: string) => Math.fround(Number(s));

function sameFloat32(actual: unknown, expected: string | string[][], what: string): void {
  if (typeof expected === 'string') {
    assert.ok(Object.is(actual, f32(expected)), `${what}: ${actual} where smp gives ${expected}`);
    return;
  }
  const rows = actual as number[][];
  assert.equal(rows.length, expected.length, `${what}: rows`);
  expected.forEach((row, i) =>
    row.forEach((v, j) => assert.ok(Object.is(rows[i]![j], f32(v)), `${what}[${i}][${j}]: ${rows[i]![j]} where smp gives ${v}`)),
  );
}

const METRIC_FUNCTIONS: Record<metrics.MetricName, metrics.MetricFunction<metrics.FbetaOptions>> = {
  fbetaScore: metrics.fbetaScore,
  f1Score: metrics.f1Score,
  iouScore: metrics.iouScore,
  accuracy: metrics.accuracy,
  precision: metrics.precision,
  recall: metrics.recall,
  sensitivity: metrics.sensitivity,
  specificity: metrics.specificity,
  balancedAccuracy: metrics.balancedAccuracy,
  positivePredictiveValue: metrics.positivePredictiveValue,
  negativePredictiveValue: metrics.negativePredictiveValue,
  falseNegativeRate: metrics.falseNegativeRate,
  falsePositiveRate: metrics.falsePositiveRate,
  falseDiscoveryRate: metrics.falseDiscoveryRate,
  falseOmissionRate: metrics.falseOmissionRate,
  positiveLikelihoodRatio: metrics.positiveLikelihoodRatio,
  negativeLikelihoodRatio: metrics.negativeLikelihoodRatio,
};

describe("metrics: zeroDivision 'warn'", () => {
  // First in this file: the warning is emitted once per process, as Python shows it once per place.
  tensorTest("'warn' gives 0 for 0/0 and emits one RuntimeWarning, once", async () => {
    const seen: Error[] = [];
    const listen = (w: Error) => seen.push(w);
    process.on('warning', listen);
    try {
      torch.tidy(() => {
        const z = torch.zeros([2, 1], { dtype: 'int64' });
        const tp = torch.tensor(BigInt64Array.from([0n, 3n]), { shape: [2, 1] });
        const none = metrics.iouScore(tp, z, z, z, { reduction: 'none', zeroDivision: 'warn' });
        assert.deepEqual(none.tolist(), [[0], [1]]);
        metrics.iouScore(tp, z, z, z, { reduction: 'macro-imagewise', zeroDivision: 'warn' });
        assert.equal(metrics.iouScore(tp, z, z, z, { reduction: 'micro-imagewise', zeroDivision: 'warn' }).item(), 0.5);
      });
      await new Promise((resolve) => setImmediate(resolve)); // warnings are delivered on the next tick
      assert.equal(seen.length, 1);
      assert.equal(seen[0]!.name, 'RuntimeWarning');
      assert.match(seen[0]!.message, /Zero division in metric calculation/);
    } finally {
      process.off('warning', listen);
    }
  });
});

describe('metrics.getStats and metrics.functional: smp parity (segmentation_models_pytorch commit 5006616)', () => {
  tensorTest('the fixture covers every mode, threshold, ignoreIndex, reduction, classWeights and zeroDivision', () => {
    assert.match(FX.sha256, /^[0-9a-f]{64}$/);
    const modes = new Set(FX.cases.map((c) => c.options.mode));
    assert.deepEqual([...modes].sort(), ['binary', 'multiclass', 'multilabel']);
    assert.ok(
      FX.cases.some((c) => c.options.threshold != null) && FX.cases.some((c) => c.options.mode === 'binary' && c.options.threshold == null),
    );
    assert.deepEqual(new Set(FX.cases.map((c) => c.options.ignoreIndex).filter((v) => v != null)), new Set([255, -1]));
    assert.deepEqual(new Set(FX.variants.map((v) => v.reduction)), new Set(metrics.REDUCTIONS));
    assert.deepEqual(new Set(FX.variants.map((v) => v.zeroDivision)), new Set([1, 0, 0.25, 'warn']));
    assert.ok(FX.variants.some((v) => v.classWeights && v.reduction === 'macro'));
    assert.deepEqual(new Set(FX.metrics.map((m) => m.name)), new Set(Object.keys(METRIC_FUNCTIONS)));
  });

  for (const c of FX.cases) {
    tensorTest(`${c.name}: getStats(${JSON.stringify(c.options)}) equals smp's get_stats exactly`, () => {
      const [output, target] = inputs(c);
      try {
        const s = metrics.getStats(output, target, c.options);
        for (const k of ['tp', 'fp', 'fn', 'tn'] as const) {
          assert.equal(s[k].dtype, 'int64');
          assert.deepEqual(s[k].tolist(), c.stats[k], k);
        }
        torch.dispose(s);
      } finally {
        torch.dispose([output, target]);
      }
    });

    if (c.scores.length === 0) continue;
    tensorTest(`${c.name}: every score under every reduction equals smp's bit for bit`, () => {
      const counts = Object.fromEntries(
        (['tp', 'fp', 'fn', 'tn'] as const).map((k) => [
          k,
          torch.tensor(BigInt64Array.from(c.stats[k].flat(), BigInt), { shape: [c.stats.tp.length, c.stats.tp[0]!.length] }),
        ]),
      ) as unknown as metrics.Stats;
      let compared = 0;
      try {
        FX.metrics.forEach((m, i) => {
          FX.variants.forEach((v, j) => {
            const options: metrics.FbetaOptions = { reduction: v.reduction, zeroDivision: v.zeroDivision };
            if (v.classWeights) options.classWeights = c.classWeights;
            if (m.beta !== null) options.beta = m.beta;
            const what = `${m.name}(${JSON.stringify(options)})`;
            torch.tidy(() => {
              const r = METRIC_FUNCTIONS[m.name](counts, options);
              assert.equal(r.dtype, 'float32', what);
              sameFloat32(v.reduction === 'none' ? r.tolist() : r.item(), c.scores[i]![j]!, what);
              const again = METRIC_FUNCTIONS[m.name](counts.tp, counts.fp, counts.fn, counts.tn, options);
              sameFloat32(v.reduction === 'none' ? again.tolist() : again.item(), c.scores[i]![j]!, `${what}, smp's positional form`);
            });
            compared++;
          });
        });
        assert.equal(compared, FX.metrics.length * FX.variants.length);
      } finally {
        torch.dispose(counts);
      }
    });
  }
});
