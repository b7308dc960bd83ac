// A trained model back from a run's checkpoint: the checkpoint names its architecture and
// options, so nothing else is needed to predict with it.
import { createModel } from '../models/registry.js';
import type { SegmentationModel } from '../models/base.js';
import { ModelEma } from '../torch/optim/ema.js';
import { loadCheckpoint, readCheckpointInfo, type CheckpointInfo } from './checkpoint.js';
import type { PredictInfo } from './events.js';

export interface TrainedModel {
  model: SegmentationModel;
  predict: PredictInfo;
  info: CheckpointInfo;
}

/** Reads the PredictInfo a Trainer stored in a checkpoint, with an error that says what is missing. */
export function readPredictInfo(path: string): { predict: PredictInfo; info: CheckpointInfo } {
  const info = readCheckpointInfo(path);
  const predict = (info.config as { predict?: PredictInfo } | null)?.predict;
  if (!predict || typeof predict.architecture !== 'string' || typeof predict.modelOptions !== 'object')
    throw new Error(
      `loadTrained: ${path} does not say which model it holds (no predict.architecture in its config); it was not written by a Trainer given 'predict' — build the model yourself and use loadCheckpoint`,
    );
  return { predict, info };
}

/** The model of a checkpoint written by the Trainer, in eval mode, with the weights it was validated with. */
export function loadTrained(path: string): TrainedModel {
  const { predict, info } = readPredictInfo(path);
  const { encoderWeights: _w, ...options } = predict.modelOptions as Record<string, unknown>;
  const model = createModel(predict.architecture, { ...options, encoderWeights: null } as never) as unknown as SegmentationModel;
  try {
    if (predict.weights === 'ema') {
      const tensors = [...model.parameters(), ...model.buffers()];
      const ema = new ModelEma(tensors);
      try {
        loadCheckpoint(path, { model, extra: { ema } });
        ema.copyTo(tensors);
      } finally {
        ema.dispose();
      }
    } else {
      loadCheckpoint(path, { model });
    }
  } catch (e) {
    model.dispose();
    throw e;
  }
  model.eval();
  return { model, predict, info };
}
