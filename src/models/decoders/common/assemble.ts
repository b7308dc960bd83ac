// smp's assembly of an encoder-decoder model, shared by the smp-layout architectures.
import type { nn } from '../../../torch/index.js';
import type { Encoder } from '../../encoders/base.js';
import type { SegmentationModel } from '../../base.js';
import { SegmentationHead, type ActivationOption, type AuxParams } from '../../heads.js';
import { initializeModel } from './modules.js';

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
 * Registers encoder, decoder, segmentation head and (with auxParams) classification head in
 * smp's state-dict order, then applies smp's initialisation. A failure while building frees
 * what was built before the error propagates.
 */
export function assembleSmp<D extends nn.Module>(model: SegmentationModel, encoder: Encoder,
  decoder: (encoderChannels: number[]) => D, head: (decoder: D) => HeadSpec, auxParams: AuxParams | null | undefined): SmpParts<D> {
  try {
    model.registerModule('encoder', encoder);
    const d = model.registerModule('decoder', decoder([...encoder.outChannels]));
    const h = head(d);
    const segmentationHead = model.registerModule('segmentation_head', new SegmentationHead(h.inChannels, h.classes, {
      activation: h.activation ?? null, kernelSize: h.kernelSize, upsampling: h.upsampling,
    }));
    model.addClassificationHead(auxParams, encoder.outChannels[encoder.outChannels.length - 1]!);
    initializeModel({ decoder: d, segmentationHead, classificationHead: model.classificationHead });
    return { encoder, decoder: d, segmentationHead };
  } catch (e) {
    model.dispose();
    throw e;
  }
}
