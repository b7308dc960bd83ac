// Model construction shared by every architecture: the parts are registered in the reference
// implementation's order (so state-dict keys and their order match) and a failure while building
// frees what was built before the error propagates, so a bad option never leaks native memory.
import type { nn } from '../../../torch/index.js';
import type { Encoder } from '../../encoders/base.js';
import type { SegmentationModel } from '../../base.js';
import { SegmentationHead, type ActivationOption, type AuxParams } from '../../heads.js';
import { initializeModel } from './modules.js';

/** Runs `build` (which registers the model's parts); if it throws, disposes the model and rethrows. */
export function buildOrDispose<T>(model: nn.Module, build: () => T): T {
  try {
    return build();
  } catch (e) {
    model.dispose();
    throw e;
  }
}

export interface HeadSpec {
  inChannels: number;
  classes: number;
  activation?: ActivationOption;
  kernelSize: number;
  upsampling?: number;
}

export interface SmpParts<D extends nn.Module> {
  encoder: Encoder;
  decoder: D;
  segmentationHead: SegmentationHead;
}

/**
 * smp's assembly: registers encoder, decoder, segmentation head and (with auxParams)
 * classification head in smp's state-dict order, then applies smp's initialisation.
 */
export function assembleSmp<D extends nn.Module>(
  model: SegmentationModel<unknown, unknown>,
  encoder: () => Encoder,
  decoder: (encoderChannels: number[]) => D,
  head: (decoder: D) => HeadSpec,
  auxParams: AuxParams | null | undefined,
): SmpParts<D> {
  return buildOrDispose(model, () => {
    const e = model.registerModule('encoder', encoder());
    const d = model.registerModule('decoder', decoder([...e.outChannels]));
    const h = head(d);
    const segmentationHead = model.registerModule(
      'segmentation_head',
      new SegmentationHead(h.inChannels, h.classes, {
        activation: h.activation ?? null,
        kernelSize: h.kernelSize,
        upsampling: h.upsampling,
      }),
    );
    model.addClassificationHead(auxParams, e.outChannels[e.outChannels.length - 1]!);
    initializeModel({ decoder: d, segmentationHead, classificationHead: model.classificationHead });
    return { encoder: e, decoder: d, segmentationHead };
  });
}
