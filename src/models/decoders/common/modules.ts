// smp's shared decoder modules (segmentation_models_pytorch/base/modules.py at commit 5006616)
// with its module layout, so state-dict keys match: Conv2dReLU is Sequential(conv, norm, relu)
// (`conv1.0.weight`, `conv1.1.running_mean`), Attention wraps SCSEModule (`attention1.attention.
// cSE.1.weight`), CenterBlock is two Conv2dReLU (`center.0.0.weight`). Also smp's
// initialize_decoder / initialize_head.
import { nn, type Tensor } from '../../../torch/index.js';

import { checkChoice, outOfRangeError } from '../../../validate.js';
import { normLayer, type NormSpec } from './norm.js';

/** Conv -> norm -> ReLU as one Sequential (smp's Conv2dReLU); the conv has a bias only without a norm. */
export class Conv2dReLU extends nn.Sequential {
  constructor(
    inChannels: number,
    outChannels: number,
    kernelSize: number,
    options: { padding?: number; stride?: number; useNorm?: NormSpec } = {},
  ) {
    const useNorm = options.useNorm ?? { type: 'batchnorm' };
    const norm = normLayer(useNorm, outChannels);
    const conv = new nn.Conv2d(inChannels, outChannels, kernelSize, {
      stride: options.stride ?? 1,
      padding: options.padding ?? 0,
      bias: norm instanceof nn.Identity,
    });
    // InPlace-ABN applies the activation itself, so smp puts an Identity in the ReLU's slot.
    super(conv, norm, useNorm.type === 'inplace' ? new nn.Identity() : new nn.ReLU({ inplace: true }));
  }
}

/** Two 3x3 Conv2dReLU on the deepest feature; smp's Unet and UNet++ add it for VGG encoders only. */
export class CenterBlock extends nn.Sequential {
  constructor(inChannels: number, outChannels: number, useNorm: NormSpec = { type: 'batchnorm' }) {
    super(
      new Conv2dReLU(inChannels, outChannels, 3, { padding: 1, useNorm }),
      new Conv2dReLU(outChannels, outChannels, 3, { padding: 1, useNorm }),
    );
  }
}

export interface SCSEOptions {
  atLeastOneChannel?: boolean;
}

/**
 * Concurrent spatial and channel squeeze & excitation (Roy et al. 2018, "Concurrent Spatial and
 * Channel Squeeze & Excitation in Fully Convolutional Networks"): x * cSE(x) + x * sSE(x).
 */
export class SCSEModule extends nn.Module {
  readonly cSE: nn.Sequential;
  readonly sSE: nn.Sequential;

  /**
   * `atLeastOneChannel`: squeeze a stage narrower than the reduction to one channel instead of
   * refusing it (segkit's Unet does; smp would build a zero-channel conv).
   */
  constructor(inChannels: number, reduction = 16, options: SCSEOptions = {}) {
    super();
    const squeezed = Math.floor(inChannels / reduction);
    const reduced = options.atLeastOneChannel ? Math.max(1, squeezed) : squeezed;
    if (reduced < 1) throw outOfRangeError('SCSEModule', 'inChannels', `at least the reduction (${reduction})`, inChannels);
    this.cSE = this.registerModule(
      'cSE',
      new nn.Sequential(
        new nn.AdaptiveAvgPool2d(1),
        new nn.Conv2d(inChannels, reduced, 1),
        new nn.ReLU({ inplace: true }),
        new nn.Conv2d(reduced, inChannels, 1),
        new nn.Sigmoid(),
      ),
    );
    this.sSE = this.registerModule('sSE', new nn.Sequential(new nn.Conv2d(inChannels, 1, 1), new nn.Sigmoid()));
  }

  forward(x: Tensor): Tensor {
    return x.mul(this.cSE.forward(x)).add(x.mul(this.sSE.forward(x)));
  }
}

/** smp's decoder_attention_type: null (none) or 'scse'. */
export type AttentionType = null | 'scse';

export function checkAttentionType(where: string, name: string, v: unknown): AttentionType {
  return v === undefined ? null : checkChoice(where, name, v, [null, 'scse'] as const);
}

/** smp's Attention: Identity or SCSEModule under the child name `attention`. */
export class Attention extends nn.Module {
  readonly attention: nn.Module;

  constructor(name: AttentionType, inChannels: number, options: SCSEOptions = {}) {
    super();
    const kind = checkAttentionType('Attention', 'name', name);
    this.attention = this.registerModule('attention', kind === 'scse' ? new SCSEModule(inChannels, 16, options) : new nn.Identity());
  }

  forward(x: Tensor): Tensor {
    return this.attention.forward(x) as Tensor;
  }
}

/**
 * smp's initialize_decoder: Conv2d kaiming_uniform_(fan_in, relu) with zero bias, BatchNorm
 * weight 1 and bias 0, Linear xavier_uniform_ with zero bias (ConvTranspose2d keeps its default).
 */
export function initializeDecoder(module: nn.Module): void {
  for (const m of module.modules()) {
    if (m instanceof nn.Conv2d) {
      nn.init.kaimingUniform_(m.weight, { mode: 'fanIn', nonlinearity: 'relu' });
      if (m.bias) nn.init.constant_(m.bias, 0);
    } else if (m instanceof nn.BatchNorm2d) {
      if (m.weight) nn.init.constant_(m.weight, 1);
      if (m.bias) nn.init.constant_(m.bias, 0);
    } else if (m instanceof nn.Linear) {
      nn.init.xavierUniform_(m.weight);
      if (m.bias) nn.init.constant_(m.bias, 0);
    }
  }
}

/** smp's initialize_head: Linear and Conv2d xavier_uniform_ with zero bias. */
export function initializeHead(module: nn.Module): void {
  for (const m of module.modules()) {
    if (m instanceof nn.Linear || m instanceof nn.Conv2d) {
      nn.init.xavierUniform_(m.weight);
      if (m.bias) nn.init.constant_(m.bias, 0);
    }
  }
}

/**
 * smp's SegmentationModel.initialize(): initialize_decoder on the decoder, initialize_head on the
 * segmentation head and on the classification head when there is one.
 */
export function initializeModel(model: { decoder: nn.Module; segmentationHead: nn.Module; classificationHead: nn.Module | null }): void {
  initializeDecoder(model.decoder);
  initializeHead(model.segmentationHead);
  if (model.classificationHead) initializeHead(model.classificationHead);
}
