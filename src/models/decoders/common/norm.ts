// smp 0.5's `use_norm` (base/modules.py get_norm_layer): what a decoder puts between each conv
// and its ReLU. A boolean, a name, or `{ type, ...kwargs }` with the layer's options in camelCase.
import { torch, nn, F, type Tensor } from '../../../torch/index.js';
import { checkChoice, describeChoices, invalidParameterError, OptionReader } from '../../../validate.js';

export type NormType = 'batchnorm' | 'identity' | 'inplace' | 'layernorm' | 'instancenorm';
export const NORM_TYPES: readonly NormType[] = ['batchnorm', 'identity', 'inplace', 'layernorm', 'instancenorm'];

/** A norm with its options: `{ type: 'layernorm', eps: 1e-2 }`. */
export interface NormSpec {
  type: NormType;
  eps?: number;
  momentum?: number;
  affine?: boolean;
  trackRunningStats?: boolean;
}

/** true = 'batchnorm', false = 'identity' (the conv then gets a bias), a NormType, or a NormSpec. */
export type UseNorm = boolean | NormType | NormSpec;

const SPEC_KEYS: Record<NormType, readonly string[]> = {
  batchnorm: ['type', 'eps', 'momentum', 'affine', 'trackRunningStats'],
  instancenorm: ['type', 'eps', 'momentum', 'affine', 'trackRunningStats'],
  inplace: ['type', 'eps', 'momentum'],
  layernorm: ['type', 'eps', 'affine'],
  identity: ['type'],
};

/** Reads a `use_norm` value into a NormSpec; `name` is the option ('decoderUseNorm'). */
export function checkUseNorm(where: string, name: string, v: unknown): NormSpec {
  if (v === true) return { type: 'batchnorm' };
  if (v === false) return { type: 'identity' };
  if (typeof v === 'string') {
    const type = v.toLowerCase();
    if (NORM_TYPES.includes(type as NormType)) return { type: type as NormType };
  } else if (typeof v === 'object' && v !== null && !Array.isArray(v)) {
    const type = checkChoice(where, `${name}.type`, (v as { type?: unknown }).type, NORM_TYPES);
    const o = new OptionReader<NormSpec>(where, v as NormSpec, SPEC_KEYS[type], `${name}.`);
    const spec: NormSpec = { type };
    if (o.has('eps')) spec.eps = o.number('eps', undefined, { min: 0, exclusive: 'min' });
    if (o.has('momentum')) spec.momentum = o.number('momentum', undefined, { min: 0, max: 1 });
    if (o.has('affine')) spec.affine = o.bool('affine');
    if (o.has('trackRunningStats')) spec.trackRunningStats = o.bool('trackRunningStats');
    return spec;
  }
  throw invalidParameterError(
    where,
    name,
    `true, false, ${describeChoices(NORM_TYPES).replace(/^one of /, '')} or { type, ...options }`,
    v,
  );
}

/**
 * Reads `decoderUseNorm`, or its deprecated alias `decoderUseBatchnorm` (smp 0.5 still accepts
 * it, with a warning); `alias` names another older spelling (PSPNet's pspUseBatchnorm).
 */
export function useNormOption(o: OptionReader<object>, alias = 'decoderUseBatchnorm'): NormSpec {
  const given = ['decoderUseNorm', alias].filter((k) => o.has(k));
  if (given.length > 1) throw new TypeError(`${o.where}: give decoderUseNorm or ${alias} (its older name), not both`);
  const name = given[0] ?? 'decoderUseNorm';
  return checkUseNorm(o.where, name, o.get(name) ?? 'batchnorm');
}

/**
 * InPlace-ABN (Rota Bulò et al., "In-Place Activated BatchNorm for Memory-Optimized Training
 * of DNNs", CVPR 2018) as smp configures it: BatchNorm fused with a leaky ReLU of slope 0, i.e.
 * BatchNorm then ReLU. The in-place memory trick is a CUDA kernel detail; the values and the
 * state-dict keys (a BatchNorm2d's) are the same, so smp checkpoints load.
 */
export class InPlaceABN extends nn.BatchNorm2d {
  override forward(x: Tensor): Tensor {
    return super.forward(x).relu_();
  }
}

/**
 * LayerNorm over the channels of an NCHW map (smp's UPerNet LayerNorm2d). smp 0.5's 'layernorm'
 * builds nn.LayerNorm(channels), which normalises the last axis (the width) and only runs when
 * the width equals the channel count; segkit normalises the channels, with the same keys.
 */
export class LayerNorm2d extends nn.Module {
  readonly eps: number;

  constructor(
    readonly numChannels: number,
    options: { eps?: number; affine?: boolean } = {},
  ) {
    super();
    this.eps = options.eps ?? 1e-5;
    const affine = options.affine ?? true;
    this.registerParameter('weight', affine ? torch.ones([numChannels]) : null);
    this.registerParameter('bias', affine ? torch.zeros([numChannels]) : null);
  }

  forward(x: Tensor): Tensor {
    const y = F.layerNorm(x.permute([0, 2, 3, 1]), [this.numChannels], {
      weight: this.getParameter('weight') ?? null,
      bias: this.getParameter('bias') ?? null,
      eps: this.eps,
    });
    return y.permute([0, 3, 1, 2]);
  }

  override extraRepr(): string {
    return `(${this.numChannels},), eps=${this.eps}`;
  }
}

/** smp's get_norm_layer: the module after a decoder conv. */
export function normLayer(spec: NormSpec, channels: number): nn.Module {
  const { type, ...options } = spec;
  switch (type) {
    case 'batchnorm':
      return new nn.BatchNorm2d(channels, options);
    case 'inplace':
      return new InPlaceABN(channels, options);
    case 'layernorm':
      return new LayerNorm2d(channels, options);
    case 'instancenorm':
      return new nn.InstanceNorm2d(channels, options);
    case 'identity':
      return new nn.Identity();
  }
}
