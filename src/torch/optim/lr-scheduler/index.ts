// torch.optim.lr_scheduler in camelCase: construct after the optimizer, call step() after each
// optimizer.step() (per epoch or per iteration, as the schedule is meant), read getLastLr().
export { LRScheduler, type SchedulerOptions, type SchedulerStateDict } from './base.js';
export { StepLR, MultiStepLR, ExponentialLR, ConstantLR, LinearLR, PolynomialLR } from './step.js';
export { CosineAnnealingLR, CosineAnnealingWarmRestarts } from './cosine.js';
export { OneCycleLR, type OneCycleLROptions } from './one-cycle.js';
export { SequentialLR } from './sequential.js';
export { LambdaLR, MultiplicativeLR, type LrLambda } from './lambda.js';
export { CyclicLR, type CyclicLROptions } from './cyclic.js';
export { ReduceLROnPlateau, type ReduceLROnPlateauOptions } from './plateau.js';
