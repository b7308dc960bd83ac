// segkit's losses: smp's segmentation losses with smp's options in camelCase and its modes
// ('binary', 'multiclass', 'multilabel'), values and gradients equal to smp's, plus weighted sums
// that report their parts. Each loss is an nn.Module: `loss.forward(yPred, yTrue)` or `loss.criterion`.
export { Loss } from './loss.js';
export { BINARY_MODE, MULTICLASS_MODE, MULTILABEL_MODE, LOSS_MODES, type LossMode } from './mode.js';
export { DiceLoss, type DiceLossOptions } from './dice.js';
export { JaccardLoss, type JaccardLossOptions } from './jaccard.js';
export { TverskyLoss, type TverskyLossOptions } from './tversky.js';
export type { RegionLossOptions } from './region.js';
export { FocalLoss, type FocalLossOptions, type FocalReduction } from './focal.js';
export { LovaszLoss, lovaszGrad, type LovaszLossOptions } from './lovasz.js';
export { SoftBCEWithLogitsLoss, type SoftBCEWithLogitsLossOptions, type Reduction } from './soft-bce.js';
export { SoftCrossEntropyLoss, type SoftCrossEntropyLossOptions } from './soft-ce.js';
export { MCCLoss, type MCCLossOptions } from './mcc.js';
export { WeightedSum, sum, type LossTerm, type LossPart } from './sum.js';
export { softTverskyScore, softDiceScore, softJaccardScore } from './scores.js';
