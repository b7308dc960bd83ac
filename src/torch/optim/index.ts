// torch.optim: optimizers ported op for op from PyTorch 1.13, learning-rate schedulers, gradient
// clipping, SWA and EMA of weights.
//
//   const opt = new SGD(params, { lr: 0.1, momentum: 0.9, weightDecay: 1e-4 });
//   const sched = new CosineAnnealingLR(opt, { tMax: epochs });
//   for (...) { opt.zeroGrad(); torch.tidy(() => loss(...).backward()); opt.step(); }  sched.step();
//   opt.dispose();  // frees the optimizer's state tensors
import { Optimizer } from './optimizer.js';
import { SGD } from './sgd.js';
import { Adam, AdamW } from './adam.js';
import { RMSprop } from './rmsprop.js';
import { clipGradNorm_ } from './clip.js';
import { AveragedModel, SWALR, updateBn, updateBnAsync } from './swa.js';
import { ModelEma } from './ema.js';
import * as lrScheduler from './lr-scheduler/index.js';

export {
  Optimizer,
  type ParamGroup,
  type ParamGroupInput,
  type ParamsInput,
  type ParamState,
  type StateValue,
  type OptimizerStateDict,
} from './optimizer.js';
export { SGD, type SGDOptions } from './sgd.js';
export { Adam, AdamW, type AdamOptions } from './adam.js';
export { RMSprop, type RMSpropOptions } from './rmsprop.js';
export { clipGradNorm_, type ClipGradNormOptions } from './clip.js';
export { AveragedModel, SWALR, updateBn, updateBnAsync, type AvgFn, type BatchNormStats, type BnUpdatable } from './swa.js';
export { ModelEma, type ModelEmaOptions } from './ema.js';
export * from './lr-scheduler/index.js';
export { lrScheduler };

/** The namespace to hang on `torch.optim` (PyTorch's module layout, camelCase). */
export const optim = {
  Optimizer,
  SGD,
  Adam,
  AdamW,
  RMSprop,
  lrScheduler,
  swaUtils: { AveragedModel, SWALR, updateBn, updateBnAsync },
  ModelEma,
  clipGradNorm_,
};
