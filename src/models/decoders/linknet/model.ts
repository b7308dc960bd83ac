import type { Encoder } from '../../encoders/base.js';
import { SegmentationModel } from '../../base.js';
import type { SegmentationHead } from '../../heads.js';
import type { ModelOptions, OutputFor, NoOptions } from '../../registry.js';
import { assembleSmp } from '../common/assemble.js';
import { useNormOption, type UseNorm } from '../common/norm.js';
import { buildEncoder, readModelOptions } from '../common/options.js';
import { LinknetDecoder } from './decoder.js';

export interface LinknetOptions extends ModelOptions {
  /** smp 0.5's decoder_use_norm: 'batchnorm' (default), 'identity', 'inplace', 'instancenorm', 'layernorm', a boolean, or { type, ...options }. */
  decoderUseNorm?: UseNorm;
  /** Deprecated: smp's older name for decoderUseNorm; give one or the other. */
  decoderUseBatchnorm?: UseNorm;
}

const KEYS = ['decoderUseNorm', 'decoderUseBatchnorm'];

/**
 * LinkNet: Chaurasia & Culurciello 2017, "LinkNet: Exploiting Encoder Representations for
 * Efficient Semantic Segmentation" (VCIP), on any encoder as smp: decoder blocks that add the
 * encoder features, a 32-channel prefinal map at full resolution and a 1x1 head.
 */
export class Linknet<const O extends LinknetOptions = NoOptions> extends SegmentationModel<OutputFor<O>> {
  readonly encoder: Encoder;
  readonly decoder: LinknetDecoder;
  readonly segmentationHead: SegmentationHead;

  constructor(options?: O) {
    super();
    const { o, c } = readModelOptions('Linknet', options, KEYS);
    const useNorm = useNormOption(o);
    const p = assembleSmp(
      this,
      () => buildEncoder(c),
      (channels) => new LinknetDecoder(channels, { nBlocks: c.encoderDepth, prefinalChannels: 32, useNorm }),
      () => ({ inChannels: 32, classes: c.classes, activation: c.activation, kernelSize: 1 }),
      c.auxParams,
    );
    [this.encoder, this.decoder, this.segmentationHead] = [p.encoder, p.decoder, p.segmentationHead];
  }
}
