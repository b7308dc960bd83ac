// The options of the paper-era architectures whose paper fixes the network (FCN, SegNet, DeepLab
// v1, the original U-Net): createModel's common options are accepted so the call looks like any
// other, but an encoder other than the paper's is refused rather than silently ignored.
import type { ActivationOption, AuxParams } from '../../heads.js';
import { COMMON_KEYS, isPositiveInt, showQuoted as show } from '../common/options.js';

export interface PaperModelOptions {
  /** The paper's encoder only ('vgg16' or 'vgg16_bn'; none for the original U-Net). */
  encoderName?: string;
  /** 5 (the paper's) only. */
  encoderDepth?: number;
  /** null (default: random init), 'imagenet' (local cache) or a weights file path. */
  encoderWeights?: string | null;
  /** Input bands (default 3); other counts adapt the first conv as smp does. */
  inChannels?: number;
  /** Output maps (default 1). */
  classes?: number;
  /** Applied to the mask (default null: logits). */
  activation?: ActivationOption;
  /** smp's classification head on the deepest feature; forward then returns { mask, label }. */
  auxParams?: AuxParams | null;
}

export interface ResolvedOptions {
  encoderWeights: string | null;
  inChannels: number;
  classes: number;
  activation: ActivationOption;
  auxParams: AuxParams | null;
}

/**
 * Checks createModel's options for `arch`, whose encoder is `encoder` (null: the architecture has
 * its own contracting path and takes no encoder options). `extra` names its own options.
 */
export function resolvePaperOptions(arch: string, options: unknown, encoder: 'vgg16' | 'vgg16_bn' | null, extra: readonly string[] = []): ResolvedOptions {
  if (options === null || typeof options !== 'object') throw new TypeError(`${arch}: options must be an object, got ${options === null ? 'null' : typeof options}`);
  const o = options as Record<string, unknown>;
  const known: string[] = [...COMMON_KEYS.filter((k) => encoder !== null || !k.startsWith('encoder')), ...extra];
  for (const key of Object.keys(o)) {
    if (o[key] === undefined) continue;
    if (!known.includes(key)) {
      const why = encoder === null && key.startsWith('encoder') ? ` (${arch} has the paper's own contracting path, no encoder to choose)` : '';
      throw new TypeError(`${arch}: unknown option '${key}'${why}; expected one of ${known.join(', ')}`);
    }
  }
  if (encoder !== null) {
    const name = o.encoderName ?? encoder;
    if (name !== encoder) throw new TypeError(`${arch}: encoderName must be '${encoder}' (the paper's encoder), got ${show(name)}`);
    const depth = o.encoderDepth ?? 5;
    if (depth !== 5) throw new RangeError(`${arch}: encoderDepth must be 5 (the paper's five VGG blocks), got ${show(depth)}`);
  }
  const weights = o.encoderWeights ?? null;
  if (weights !== null && typeof weights !== 'string') throw new TypeError(`${arch}: encoderWeights must be null, 'imagenet' or a file path, got ${show(weights)}`);
  const inChannels = o.inChannels ?? 3;
  if (!isPositiveInt(inChannels)) throw new RangeError(`${arch}: inChannels must be a positive integer, got ${show(inChannels)}`);
  const classes = o.classes ?? 1;
  if (!isPositiveInt(classes)) throw new RangeError(`${arch}: classes must be a positive integer, got ${show(classes)}`);
  const auxParams = o.auxParams ?? null;
  if (auxParams !== null && typeof auxParams !== 'object') throw new TypeError(`${arch}: auxParams must be null or an object, got ${show(auxParams)}`);
  return { encoderWeights: weights as string | null, inChannels, classes, activation: (o.activation ?? null) as ActivationOption, auxParams: auxParams as AuxParams | null };
}
