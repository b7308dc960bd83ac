// createModel('unet', { encoderName: 'resnet34', classes: 1 }): architectures by name, as smp's
// create_model. Each architecture registers itself from its folder under decoders/.
import type { SegmentationModel } from './base.js';
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

export interface ModelSpec {
  name: string;
  /** The paper, one line. */
  paper: string;
  create(options: ModelOptions): SegmentationModel;
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
  const spec = typeof arch === 'string' ? models.get(arch.toLowerCase()) : undefined;
  if (!spec) throw new Error(`unknown architecture ${JSON.stringify(arch)}; available: ${listModels().join(', ')}`);
  return spec;
}

/** Builds an architecture by name with smp's options (camelCase). Synchronous. */
export function createModel(arch: string, options: ModelOptions = {}): SegmentationModel {
  if (options === null || typeof options !== 'object') throw new TypeError(`createModel: options must be an object, got ${options === null ? 'null' : typeof options}`);
  return getModelSpec(arch).create(options);
}
