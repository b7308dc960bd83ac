// Fine-tuning: a run whose model starts from another run's trained weights (model.init), as smp
// users call model.load_state_dict before training. The checkpoint must hold the same model;
// the optimizer, schedule and epochs start afresh (resume is for continuing the same run).
import type { SegmentationModel } from '../models/base.js';
import { torch } from '../torch/index.js';
import { loadTrained } from './load.js';

/** The model options that decide the weights' shapes: any difference makes the checkpoint unusable. */
const SHAPING = ['encoderName', 'inChannels', 'classes', 'encoderDepth', 'decoderChannels'];

/** Copies the trained weights of `path` (best/last/snapshot of a segkit run) into `model`; throws naming what differs. */
export function initFromCheckpoint(
  model: SegmentationModel,
  path: string,
  architecture: string,
  modelOptions: Record<string, unknown>,
  where = 'model.init',
): void {
  const trained = (() => {
    try {
      return loadTrained(path);
    } catch (e) {
      throw new Error(`${where}: expected a checkpoint written by segkit train, but ${(e as Error).message}`);
    }
  })();
  try {
    const theirs = trained.predict.modelOptions as Record<string, unknown>;
    if (trained.predict.architecture !== architecture)
      throw new Error(`${where}: ${path} holds a ${trained.predict.architecture} model, this run builds a ${architecture}`);
    for (const key of SHAPING) {
      const a = JSON.stringify(theirs[key]);
      const b = JSON.stringify(modelOptions[key]);
      if (a !== b) throw new Error(`${where}: ${path} has ${key} ${a ?? 'unset'}, this run's model has ${b ?? 'unset'}`);
    }
    const state = trained.model.stateDict();
    torch.noGrad(() => model.loadStateDict(state, { strict: true }));
  } finally {
    trained.model.dispose();
  }
}
