// createModel('unet', { encoderName: 'resnet34', classes: 1 }): architectures by name, as smp's
// create_model. Each architecture registers itself from its folder's index.ts under decoders/.
import type { Tensor } from '../torch/index.js';
import { checkString, describeChoices, invalidParameterError, is } from '../validate.js';
import type { AuxOutput, ModelOutput, SegmentationModel } from './base.js';
import type { ActivationOption, AuxParams } from './heads.js';

export interface ModelOptions {
  encoderName?: string;
  encoderDepth?: number;
  /** null (default: random init, nothing fetched), 'imagenet' (local cache), or a weights file path. */
  encoderWeights?: string | null;
  inChannels?: number;
  classes?: number;
  activation?: ActivationOption;
  auxParams?: AuxParams | null;
  [archOption: string]: unknown;
}

/** The options type of a model built with none given. */
export type NoOptions = Record<never, never>;

/** The type of option K in O: undefined when O has no such key. */
type OptionType<O, K extends string> = K extends keyof O ? O[K] : undefined;

/**
 * What forward and predict return for options of type O: a Tensor, `{ mask, label }` when
 * `auxParams` is given, either when the type does not say (a plain ModelOptions).
 */
export type OutputFor<O> =
  OptionType<O, 'auxParams'> extends null | undefined
    ? Tensor
    : OptionType<O, 'auxParams'> extends AuxParams
      ? ModelOutput
      : Tensor | ModelOutput;

/**
 * What forward returns instead in training mode: `{ mask, aux }` for options that turn on an
 * auxiliary head (`aux: true`, or PSPNet's `variant: 'paper'` unless `aux: false`).
 */
export type AuxFor<O> =
  OptionType<O, 'aux'> extends true
    ? AuxOutput
    : OptionType<O, 'aux'> extends false
      ? never
      : OptionType<O, 'aux'> extends undefined
        ? OptionType<O, 'variant'> extends undefined | 'smp'
          ? never
          : AuxOutput
        : AuxOutput;

/** The model createModel returns for options of type O. */
export type ModelFor<O> = SegmentationModel<OutputFor<O>, AuxFor<O>>;

export interface ModelSpec {
  name: string;
  /** The paper, one line. */
  paper: string;
  create(options: ModelOptions): SegmentationModel<unknown, unknown>;
}

const models = new Map<string, ModelSpec>();

export function registerModel(spec: ModelSpec): void {
  if (models.has(spec.name)) throw new Error(`model '${spec.name}' is registered twice`);
  models.set(spec.name, spec);
}

export function listModels(): string[] {
  return [...models.keys()];
}

export function getModelSpec(arch: string): ModelSpec {
  checkString('createModel', 'arch', arch, 'an architecture name');
  const spec = models.get(arch.toLowerCase());
  if (!spec) throw invalidParameterError('createModel', 'arch', describeChoices(listModels()), arch);
  return spec;
}

/**
 * Builds an architecture by name with smp's options (camelCase). Synchronous. The return type
 * follows the options: `createModel('unet', { auxParams: { classes: 2 } }).forward(x)` is
 * `{ mask, label }`, without auxParams a Tensor.
 */
export function createModel<const O extends ModelOptions = NoOptions>(arch: string, options?: O): ModelFor<O> {
  if (options !== undefined && !is.object(options)) throw invalidParameterError('createModel', 'options', 'an object', options);
  return getModelSpec(arch).create(options ?? {}) as ModelFor<O>;
}
