// smp's shared decoder modules (segmentation_models_pytorch/base/modules.py at commit 5006616)
// with its module layout, so state-dict keys match: Conv2dReLU is Sequential(conv, norm, relu)
// (`conv1.0.weight`, `conv1.1.running_mean`), Attention wraps SCSEModule (`attention1.attention.
// cSE.1.weight`). Also smp's initialize_decoder / initialize_head.
import { nn, type Tensor } from '../../../torch/index.js';

/** smp's `use_norm`: true or 'batchnorm' (BatchNorm2d), false or 'identity' (none: the conv gets a bias). */
export type UseNorm = boolean | 'batchnorm' | 'identity';

const NORMS: readonly string[] = ['batchnorm', 'identity'];

/** Checks a `use_norm` value; `option` names it in the error (e.g. 'decoderUseNorm'). */
export function checkUseNorm(option: string, v: unknown): UseNorm {
  if (typeof v === 'boolean' || (typeof v === 'string' && NORMS.includes(v.toLowerCase()))) {
    return (typeof v === 'string' ? v.toLowerCase() : v) as UseNorm;
  }
  const note = typeof v === 'string' && ['inplace', 'layernorm', 'instancenorm'].includes(v.toLowerCase())
    ? ` ('${v}' is an smp option segkit does not have)` : '';
  throw new TypeError(`${option} must be true, false, 'batchnorm' or 'identity'${note}, got ${JSON.stringify(v)}`);
}

/** smp's get_norm_layer for the supported kinds. */
export function normLayer(useNorm: UseNorm, channels: number): nn.Module {
  return useNorm === true || useNorm === 'batchnorm' ? new nn.BatchNorm2d(channels) : new nn.Identity();
}

/** Conv -> norm -> ReLU as one Sequential (smp's Conv2dReLU); the conv has a bias only without a norm. */
export class Conv2dReLU extends nn.Sequential {
  constructor(inChannels: number, outChannels: number, kernelSize: number,
    options: { padding?: number; stride?: number; useNorm?: UseNorm } = {}) {
    const norm = normLayer(options.useNorm ?? 'batchnorm', outChannels);
    const conv = new nn.Conv2d(inChannels, outChannels, kernelSize, {
      stride: options.stride ?? 1, padding: options.padding ?? 0, bias: norm instanceof nn.Identity,
    });
    super(conv, norm, new nn.ReLU({ inplace: true }));
  }
}

/**
 * Concurrent spatial and channel squeeze & excitation (Roy et al. 2018, "Concurrent Spatial and
 * Channel Squeeze & Excitation in Fully Convolutional Networks"): x * cSE(x) + x * sSE(x).
 */
export class SCSEModule extends nn.Module {
  readonly cSE: nn.Sequential;
  readonly sSE: nn.Sequential;

  constructor(inChannels: number, reduction = 16) {
    super();
    const reduced = Math.floor(inChannels / reduction);
    if (reduced < 1) throw new RangeError(`SCSEModule: inChannels (${inChannels}) must be at least the reduction (${reduction})`);
    this.cSE = this.registerModule('cSE', new nn.Sequential(
      new nn.AdaptiveAvgPool2d(1),
      new nn.Conv2d(inChannels, reduced, 1),
      new nn.ReLU({ inplace: true }),
      new nn.Conv2d(reduced, inChannels, 1),
      new nn.Sigmoid(),
    ));
    this.sSE = this.registerModule('sSE', new nn.Sequential(new nn.Conv2d(inChannels, 1, 1), new nn.Sigmoid()));
  }

  forward(x: Tensor): Tensor {
    return x.mul(this.cSE.forward(x)).add(x.mul(this.sSE.forward(x)));
  }
}

/** smp's decoder_attention_type: null (none) or 'scse'. */
export type AttentionType = null | 'scse';

export function checkAttentionType(option: string, v: unknown): AttentionType {
  if (v === undefined || v === null) return null;
  if (v === 'scse') return 'scse';
  throw new TypeError(`${option} must be null or 'scse', got ${JSON.stringify(v)}`);
}

/** smp's Attention: Identity or SCSEModule under the child name `attention`. */
export class Attention extends nn.Module {
  readonly attention: nn.Module;

  constructor(name: AttentionType, inChannels: number) {
    super();
    this.attention = this.registerModule('attention', name === 'scse' ? new SCSEModule(inChannels) : new nn.Identity());
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
