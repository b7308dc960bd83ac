// Streaming evaluation: update() batch by batch keeps counts only (per class, per image where
// a reduction needs images, and the object and boundary tallies), never the masks, so a
// validation set of any size costs the same memory; compute() gives every configured score.
import { torch, type Tensor } from '../torch/index.js';
import { OptionReader, invalidParameterError, is, readOptions } from '../validate.js';
import { boundaryMatch, readTolerance, type BoundaryScore } from './boundary.js';
import { label } from './components.js';
import {
  FORMULAS,
  checkClassWeights,
  readMetricConfig,
  reduceMetric,
  type FbetaOptions,
  type MetricConfig,
  type MetricName,
} from './functional.js';
import { copyMasks, type MaskBatch } from './masks.js';
import { OBJECT_KEYS, matchComponents, objectScores, readObjectConfig, type ObjectMatchOptions, type ObjectScore } from './objects.js';
import {
  STATS_KEYS,
  binarize,
  checkInputs,
  computeStats,
  readStatsConfig,
  statsFromMasks,
  type GetStatsOptions,
  type StatsConfig,
} from './stats.js';
import { diceFromCounts } from './tianchi.js';

/** smp's scores, and the three of the building-mapping field ('binary' mode only). */
export type ScoreName = MetricName | 'tianchiScore' | 'objectScore' | 'boundaryFScore';

/** One score with its own options; `name` is its key in compute()'s result (default: the score). */
export interface ScoreSpec extends FbetaOptions {
  score: ScoreName;
  name?: string;
}

/** getStats' options, the defaults of the smp scores, the scores to compute and the options of the mask scores. */
export interface AccumulatorOptions extends GetStatsOptions, FbetaOptions {
  /** What compute() returns (default ['iouScore', 'f1Score']). The reduction, classWeights, zeroDivision and beta given here apply to every smp score that does not set its own; the reduction defaults to 'micro'. */
  scores?: readonly (ScoreName | ScoreSpec)[];
  /** objectScore's matching. */
  objects?: ObjectMatchOptions;
  /** boundaryFScore's tolerance in pixels (default 2). */
  boundary?: { tolerance?: number };
}

/** A score: a number, (N, C) numbers for reduction 'none', or the object and boundary records. */
export type ScoreValue = number | number[][] | ObjectScore | BoundaryScore;

const MASK_SCORES = ['tianchiScore', 'objectScore', 'boundaryFScore'] as const;
const SCORE_NAMES = [...Object.keys(FORMULAS), ...MASK_SCORES] as ScoreName[];
const SPEC_KEYS = ['score', 'name', 'reduction', 'classWeights', 'zeroDivision', 'beta'];
const KEYS = [...STATS_KEYS, 'reduction', 'classWeights', 'zeroDivision', 'beta', 'scores', 'objects', 'boundary'];

interface Spec {
  name: string;
  score: ScoreName;
  metric: MetricConfig | null;
}

/**
 * Accumulates a validation set batch by batch. Its results equal the one-shot functions
 * (getStats and the smp scores, tianchiScore, objectScore, boundaryFScore) on all the batches
 * concatenated.
 *
 *   const acc = new metrics.Accumulator({ mode: 'binary', threshold: 0.5, scores: ['iouScore', 'objectScore'] });
 *   for (const { image, mask } of loader) tidy(() => acc.update(model.predict(image).sigmoid(), mask));
 *   const { iouScore, objectScore } = acc.compute();
 */
export class Accumulator {
  readonly stats: StatsConfig;
  private readonly specs: Spec[];
  private readonly perImage: boolean;
  private readonly masks: boolean;
  private readonly iouThreshold: number;
  private readonly eight: boolean;
  private readonly tolerance: number;
  private classes = -1;
  private imageCount = 0;
  private totals: Float64Array[] = [];
  private images: number[][] = [[], [], [], []];
  private tianchiSum = 0;
  private objects = { tp: 0, fp: 0, fn: 0 };
  private boundary = { precision: 0, recall: 0, f: 0 };

  constructor(options: AccumulatorOptions) {
    const where = 'metrics.Accumulator';
    const o = readOptions(where, options, KEYS);
    this.stats = readStatsConfig(o);
    const known = this.stats.mode === 'multiclass' ? this.stats.numClasses : this.stats.mode === 'binary' ? 1 : this.stats.numClasses;
    if (known !== null) this.classes = known;
    const top = readMetricConfig(o, null, { reduction: 'micro', classWeights: null, zeroDivision: 1, beta: 1 });
    const list = o.get('scores') ?? ['iouScore', 'f1Score'];
    if (!Array.isArray(list) || list.length === 0)
      throw invalidParameterError(where, 'scores', 'a non-empty array of score names or { score, ... } objects', list);
    this.specs = list.map((entry, i) => this.readSpec(where, entry, i, top));
    const names = this.specs.map((s) => s.name);
    const twice = names.find((n, i) => names.indexOf(n) !== i);
    if (twice !== undefined) throw new TypeError(`${where}: scores must have distinct names, got '${twice}' twice (give one a name)`);
    if (this.classes > 0) for (const s of this.specs) this.checkWeights(where, s);
    this.perImage = this.specs.some(
      (s) => s.metric !== null && (s.metric.reduction.endsWith('imagewise') || s.metric.reduction === 'none'),
    );
    this.masks = this.specs.some((s) => s.score === 'objectScore' || s.score === 'boundaryFScore');
    const objects = o.nested('objects', OBJECT_KEYS) ?? new OptionReader(where, {}, OBJECT_KEYS);
    ({ iouThreshold: this.iouThreshold, eight: this.eight } = readObjectConfig(objects));
    this.tolerance = readTolerance(o.nested('boundary', ['tolerance']) ?? new OptionReader(where, {}, ['tolerance']));
  }

  private readSpec(where: string, entry: unknown, i: number, top: MetricConfig): Spec {
    const spec = typeof entry === 'string' ? { score: entry } : entry;
    if (!is.object(spec))
      throw invalidParameterError(where, `scores[${i}]`, 'a score name or a { score, name?, reduction?, ... } object', entry);
    const o = new OptionReader(where, spec, SPEC_KEYS, `scores[${i}].`);
    const score = o.choice('score', SCORE_NAMES);
    const name = o.string('name', score);
    const maskScore = (MASK_SCORES as readonly string[]).includes(score);
    if (maskScore && this.stats.mode !== 'binary')
      throw invalidParameterError(where, 'mode', `'binary' for score '${score}' (it scores building masks)`, this.stats.mode);
    if (maskScore) {
      const extra = ['reduction', 'classWeights', 'zeroDivision', 'beta'].find((k) => o.has(k));
      if (extra) throw invalidParameterError(where, `scores[${i}].${extra}`, `absent for '${score}' (it has no such option)`, o.get(extra));
      return { name, score, metric: null };
    }
    if (o.has('beta') && score !== 'fbetaScore')
      throw invalidParameterError(where, `scores[${i}].beta`, "absent except for 'fbetaScore'", o.get('beta'));
    return { name, score, metric: readMetricConfig(o, null, { ...top, beta: score === 'fbetaScore' ? top.beta : 1 }) };
  }

  private checkWeights(where: string, s: Spec): void {
    if (s.metric?.classWeights) checkClassWeights(where, `classWeights of score '${s.name}'`, s.metric.classWeights, this.classes);
  }

  /** Images seen since construction or reset(). */
  get count(): number {
    return this.imageCount;
  }

  /** Adds a batch: output and target as getStats takes them (in 'binary' mode (N, H, W) works too). */
  update(output: Tensor, target: Tensor): void {
    const where = 'metrics.Accumulator.update';
    const binary = this.stats.mode === 'binary';
    const { counts, masks, classes } = torch.tidy(() => {
      const lift = (t: Tensor) => (binary && torch.isTensor(t) && !t.isDisposed && t.ndim === 3 ? t.unsqueeze(1) : t);
      const [out, tgt] = checkInputs(where, lift(output), lift(target), this.stats);
      if (this.masks && out.ndim !== 4)
        throw new RangeError(
          `${where}: output must be a batch of masks (N, 1, H, W) or (N, H, W) for the object and boundary scores, got shape [${out.shape.join(', ')}]`,
        );
      let stats = null;
      let masks: MaskBatch | null = null;
      if (this.stats.mode === 'multiclass') stats = computeStats(where, out, tgt, this.stats);
      else {
        const m = binarize(where, out, tgt, this.stats);
        stats = statsFromMasks(m.pred, m.truth, m.valid);
        if (this.masks) masks = copyMasks(m.pred, m.truth);
      }
      const counts = [stats.tp, stats.fp, stats.fn, stats.tn].map((t) => t.toArray() as BigInt64Array);
      return { counts, masks, classes: stats.tp.shape[1]! };
    });
    this.addCounts(where, counts, classes);
    if (masks !== null) this.addMasks(masks);
  }

  private addCounts(where: string, counts: BigInt64Array[], classes: number): void {
    if (this.classes < 0) {
      this.classes = classes;
      for (const s of this.specs) this.checkWeights(where, s);
    } else if (classes !== this.classes) {
      throw new RangeError(`${where}: this batch has ${classes} classes where the earlier ones had ${this.classes}`);
    }
    if (this.totals.length === 0) this.totals = counts.map(() => new Float64Array(classes));
    const images = counts[0]!.length / Math.max(classes, 1);
    for (let k = 0; k < 4; k++) {
      const src = counts[k]!;
      const total = this.totals[k]!;
      const keep = this.images[k]!;
      for (let i = 0; i < src.length; i++) {
        const v = Number(src[i]);
        total[i % classes] += v;
        if (this.perImage) keep.push(v);
      }
    }
    if (this.stats.mode === 'binary') {
      for (let i = 0; i < images; i++)
        this.tianchiSum += diceFromCounts(Number(counts[0]![i]), Number(counts[1]![i]), Number(counts[2]![i]));
    }
    this.imageCount += images;
  }

  private addMasks(m: MaskBatch): void {
    const size = m.height * m.width;
    for (let i = 0; i < m.count; i++) {
      const pred = m.pred.subarray(i * size, (i + 1) * size);
      const truth = m.truth.subarray(i * size, (i + 1) * size);
      if (this.specs.some((s) => s.score === 'objectScore')) {
        const r = matchComponents(
          label(pred, m.width, m.height, this.eight),
          label(truth, m.width, m.height, this.eight),
          this.iouThreshold,
        );
        this.objects.tp += r.tp;
        this.objects.fp += r.fp;
        this.objects.fn += r.fn;
      }
      if (this.specs.some((s) => s.score === 'boundaryFScore')) {
        const r = boundaryMatch(pred, truth, m.width, m.height, this.tolerance, null);
        this.boundary.precision += r.precision;
        this.boundary.recall += r.recall;
        this.boundary.f += r.f;
      }
    }
  }

  /** Every configured score, by name. */
  compute(): Record<string, ScoreValue> {
    if (this.imageCount === 0) throw new Error('metrics.Accumulator.compute: no images yet (call update(output, target) first)');
    const result: Record<string, ScoreValue> = {};
    const n = this.imageCount;
    torch.tidy(() => {
      const shape = this.perImage ? [n, this.classes] : [1, this.classes];
      const [tp, fp, fn, tn] = (this.perImage ? this.images : this.totals).map((v) =>
        torch.tensor(
          BigInt64Array.from(v, (x) => BigInt(x)),
          { shape },
        ),
      ) as [Tensor, Tensor, Tensor, Tensor];
      for (const s of this.specs) {
        if (s.metric === null) continue;
        const r = reduceMetric(FORMULAS[s.score as MetricName], tp, fp, fn, tn, s.metric);
        result[s.name] = s.metric.reduction === 'none' ? (r.tolist() as number[][]) : r.item();
      }
    });
    for (const s of this.specs) {
      if (s.score === 'tianchiScore') result[s.name] = this.tianchiSum / n;
      else if (s.score === 'objectScore') result[s.name] = objectScores(this.objects.tp, this.objects.fp, this.objects.fn);
      else if (s.score === 'boundaryFScore')
        result[s.name] = { precision: this.boundary.precision / n, recall: this.boundary.recall / n, f: this.boundary.f / n };
    }
    return result;
  }

  /** Forgets every batch, keeping the configuration. */
  reset(): void {
    this.imageCount = 0;
    this.totals = [];
    this.images = [[], [], [], []];
    this.tianchiSum = 0;
    this.objects = { tp: 0, fp: 0, fn: 0 };
    this.boundary = { precision: 0, recall: 0, f: 0 };
    if (this.stats.mode === 'multilabel' && this.stats.numClasses === null) this.classes = -1;
  }
}
