// smp's Linknet (decoders/linknet/model.py at commit 5006616): same options (camelCase),
// defaults and state-dict keys (`decoder.blocks.0.block.0.0.weight`, `segmentation_head.0.weight`).
import type { Encoder } from '../../encoders/base.js';
import { SegmentationModel } from '../../base.js';
import { SegmentationHead } from '../../heads.js';
import { registerModel, type ModelOptions } from '../../registry.js';
import type { UseNorm } from '../common/modules.js';
import { assembleSmp } from '../common/assemble.js';
import { COMMON_KEYS, buildEncoder, checkKeys, commonOptions, useNormOption } from '../common/options.js';
import { LinknetDecoder } from './decoder.js';

export interface LinknetOptions extends ModelOptions {
  /** smp's decoder_use_norm: true/'batchnorm' (default) or false/'identity'. */
  decoderUseNorm?: UseNorm;
  /** smp's older name for decoderUseNorm (boolean); give one or the other. */
  decoderUseBatchnorm?: boolean;
}

const KEYS = [...COMMON_KEYS, 'decoderUseNorm', 'decoderUseBatchnorm'];

/**
 * LinkNet: Chaurasia & Culurciello 2017, "LinkNet: Exploiting Encoder Representations for
 * Efficient Semantic Segmentation" (VCIP), on any encoder as smp: decoder blocks that add the
 * encoder features, a 32-channel prefinal map at full resolution and a 1x1 head.
 */
export class Linknet extends SegmentationModel {
  readonly encoder: Encoder;
  readonly decoder: LinknetDecoder;
  readonly segmentationHead: SegmentationHead;

  constructor(options: LinknetOptions = {}) {
    super();
    const arch = 'Linknet';
    const o = checkKeys(arch, options, KEYS);
    const c = commonOptions(arch, o);
    const useNorm = useNormOption(arch, o);
    // Options are checked above; a failure while building frees what was built.
    const p = assembleSmp(this, buildEncoder(c),
      (channels) => new LinknetDecoder(channels, { nBlocks: c.encoderDepth, prefinalChannels: 32, useNorm }),
      () => ({ inChannels: 32, classes: c.classes, activation: c.activation, kernelSize: 1 }), c.auxParams);
    [this.encoder, this.decoder, this.segmentationHead] = [p.encoder, p.decoder, p.segmentationHead];
  }
}

registerModel({
  name: 'linknet',
  paper: 'Chaurasia & Culurciello 2017, LinkNet: Exploiting Encoder Representations for Efficient Semantic Segmentation (VCIP), as smp',
  create: (options) => new Linknet(options),
});
