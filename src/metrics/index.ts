// segkit's metrics: smp's confusion-matrix scores (getStats and metrics.functional), the
// building-mapping scores (Tianchi Dice, SpaceNet object F1, DAVIS boundary F), the CPU mask
// tools under them, and a streaming Accumulator.
export { getStats, type GetStatsOptions, type Stats, type StatsMode } from './stats.js';
export {
  fbetaScore,
  f1Score,
  iouScore,
  accuracy,
  precision,
  recall,
  sensitivity,
  specificity,
  balancedAccuracy,
  positivePredictiveValue,
  negativePredictiveValue,
  falseNegativeRate,
  falsePositiveRate,
  falseDiscoveryRate,
  falseOmissionRate,
  positiveLikelihoodRatio,
  negativeLikelihoodRatio,
  REDUCTIONS,
  type Reduction,
  type MetricOptions,
  type FbetaOptions,
  type MetricFunction,
  type MetricName,
} from './functional.js';
export { tianchiScore } from './tianchi.js';
export {
  objectScore,
  matchObjects,
  type ObjectScore,
  type ObjectMatch,
  type ObjectPair,
  type ObjectMatchOptions,
  type ObjectScoreOptions,
} from './objects.js';
export { matchPolygons, type PolygonMatchOptions } from './polygons.js';
export {
  boundaryFScore,
  matchBoundaries,
  boundaryMap,
  squaredDistanceTransform,
  type BoundaryScore,
  type BoundaryMatch,
  type BoundaryOptions,
  type BoundaryFScoreOptions,
} from './boundary.js';
export { connectedComponents, type Components, type ComponentsOptions, type Connectivity } from './components.js';
export type { MaskOptions } from './masks.js';
export { Accumulator, type AccumulatorOptions, type ScoreName, type ScoreSpec, type ScoreValue } from './accumulator.js';
