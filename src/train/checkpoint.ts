// Checkpoints: one safetensors file per checkpoint. Tensors (model weights, optimizer state,
// libtorch's RNG state) are its tensors; everything else (epoch, step, scheduler state, the
// JS generator, the user's config) is JSON in its metadata. Written atomically (temporary
// file, fsync, rename), so a crash or a full disk never leaves a broken file where the last
// good checkpoint was.
import { readFileSync } from 'node:fs';
import { torch, Tensor } from '../torch/index.js';
import { decodeSafetensors, encodeSafetensorsChunks } from '../torch/serialization/safetensors-format.js';
import { fromRaw, toRaw, writeAtomic } from '../torch/serialization/index.js';
import { setOwn, type RawTensor } from '../torch/serialization/raw.js';
import type { Random } from '../data/random.js';
import { checkString, invalidParameterError, is } from '../validate.js';

export const CHECKPOINT_FORMAT = 'segkit.checkpoint';
export const CHECKPOINT_VERSION = 1;

/** Anything with PyTorch-style state: models, optimizers, schedulers, EMA. */
export interface Stateful {
  stateDict(): unknown;
  loadStateDict(state: any, options?: any): unknown;
}

export interface CheckpointParts {
  model: Stateful;
  optimizer?: Stateful;
  scheduler?: Stateful;
  /** Other stateful objects by name (an EMA, a second scheduler, a GAN discriminator). */
  extra?: Record<string, Stateful>;
  epoch?: number;
  step?: number;
  /** The JS generator used for shuffling/augmentation, if any. */
  random?: Random;
  /** The user's configuration: any JSON value. */
  config?: unknown;
}

export interface CheckpointInfo {
  epoch: number;
  step: number;
  config: unknown;
  version: number;
  savedAt: string;
}

const TENSOR = '__tensor__';
const NUMBER = '__number__';

/** Replaces tensors by references into `tensors` and non-finite numbers by tags, for JSON. */
function pack(value: unknown, path: string, tensors: Record<string, RawTensor>): unknown {
  if (value instanceof Tensor) {
    setOwn(tensors, path, toRaw(value));
    return { [TENSOR]: path };
  }
  if (typeof value === 'number' && !Number.isFinite(value)) return { [NUMBER]: String(value) };
  if (typeof value === 'bigint') throw new TypeError(`checkpoint: cannot store a bigint at ${path}`);
  if (Array.isArray(value)) return value.map((v, i) => pack(v, `${path}/${i}`, tensors));
  if (value instanceof Map) throw new TypeError(`checkpoint: cannot store a Map at ${path}; use a plain object`);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) if (v !== undefined) setOwn(out, k, pack(v, `${path}/${k}`, tensors));
    return out;
  }
  return value;
}

function unpack(value: unknown, tensors: Record<string, RawTensor>, made: Tensor[], file: string): unknown {
  if (Array.isArray(value)) return value.map((v) => unpack(v, tensors, made, file));
  if (value !== null && typeof value === 'object') {
    const o = value as Record<string, unknown>;
    if (typeof o[TENSOR] === 'string') {
      const raw = Object.hasOwn(tensors, o[TENSOR]) ? tensors[o[TENSOR] as string] : undefined;
      if (!raw) throw new Error(`${file}: the checkpoint refers to tensor "${o[TENSOR]}", which the file does not hold`);
      const t = fromRaw(raw);
      made.push(t);
      return t;
    }
    if (typeof o[NUMBER] === 'string') return Number(o[NUMBER]);
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(o)) setOwn(out, k, unpack(v, tensors, made, file));
    return out;
  }
  return value;
}

/** An object with stateDict() and loadStateDict(); undefined passes unless `required`. */
function checkStateful(where: string, name: string, v: unknown, required = false): void {
  if (v === undefined && !required) return;
  const s = v as Partial<Stateful> | null | undefined;
  if (s == null || typeof s.stateDict !== 'function' || typeof s.loadStateDict !== 'function') {
    throw invalidParameterError(where, name, 'an object with stateDict() and loadStateDict()', v);
  }
}

/** The parts to save or restore into: an object whose model, optimizer, scheduler and extra are Stateful. */
function checkParts(where: string, parts: unknown): void {
  if (!is.object(parts)) throw invalidParameterError(where, 'parts', 'an object { model, optimizer?, scheduler?, extra?, ... }', parts);
  checkStateful(where, 'model', parts.model, true);
  checkStateful(where, 'optimizer', parts.optimizer);
  checkStateful(where, 'scheduler', parts.scheduler);
  for (const [k, v] of Object.entries((parts.extra as Record<string, unknown> | undefined) ?? {}))
    checkStateful(where, `extra.${k}`, v, true);
}

/** Writes a checkpoint of a training run to `path` (a .safetensors file), atomically. */
export function saveCheckpoint(path: string, parts: CheckpointParts): void {
  checkString('saveCheckpoint', 'path', path);
  checkParts('saveCheckpoint', parts);
  const tensors: Record<string, RawTensor> = {};
  const rng = torch.getRngState();
  const cudaRng = Array.from({ length: torch.cuda.deviceCount() }, (_, i) => torch.cuda.getRngState(i));
  let state: unknown;
  try {
    state = {
      model: pack(parts.model.stateDict(), 'model', tensors),
      optimizer: parts.optimizer ? pack(parts.optimizer.stateDict(), 'optimizer', tensors) : null,
      scheduler: parts.scheduler ? pack(parts.scheduler.stateDict(), 'scheduler', tensors) : null,
      extra: pack(Object.fromEntries(Object.entries(parts.extra ?? {}).map(([k, v]) => [k, v.stateDict()])), 'extra', tensors),
      rng: {
        torch: pack(rng, 'rng/torch', tensors),
        cuda: pack(cudaRng, 'rng/cuda', tensors),
        random: parts.random ? parts.random.getState() : null,
      },
    };
  } finally {
    rng.dispose();
    torch.dispose(cudaRng);
  }
  const info: CheckpointInfo = {
    epoch: parts.epoch ?? 0,
    step: parts.step ?? 0,
    config: parts.config ?? null,
    version: CHECKPOINT_VERSION,
    savedAt: new Date().toISOString(),
  };
  const metadata = {
    format: CHECKPOINT_FORMAT,
    format_version: String(CHECKPOINT_VERSION),
    info: JSON.stringify(info),
    state: JSON.stringify(state),
  };
  writeAtomic(path, encodeSafetensorsChunks(tensors, metadata), 'saveCheckpoint');
}

function readCheckpoint(path: string, op: string) {
  checkString(op, 'path', path);
  let bytes: Uint8Array;
  try {
    const b = readFileSync(path);
    bytes = new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  } catch (e) {
    throw new Error(`${op}: cannot read ${path}: ${(e as Error).message}`);
  }
  const { tensors, metadata } = decodeSafetensors(bytes, path);
  if (metadata.format !== CHECKPOINT_FORMAT) {
    throw new Error(
      `${op}: ${path} is not a segkit checkpoint (its metadata has no format "${CHECKPOINT_FORMAT}"; for bare weights use torch.loadSafetensors)`,
    );
  }
  const version = Number(metadata.format_version);
  if (version !== CHECKPOINT_VERSION) {
    throw new Error(
      `${op}: ${path} is checkpoint format version ${metadata.format_version}; this segkit reads version ${CHECKPOINT_VERSION}`,
    );
  }
  try {
    return {
      tensors,
      info: JSON.parse(metadata.info ?? '') as CheckpointInfo,
      state: JSON.parse(metadata.state ?? '') as Record<string, any>,
    };
  } catch {
    throw new Error(`${op}: ${path} has a damaged checkpoint header (its JSON does not parse)`);
  }
}

/** Reads only the epoch, step and config of a checkpoint. */
export function readCheckpointInfo(path: string): CheckpointInfo {
  return readCheckpoint(path, 'readCheckpointInfo').info;
}

/**
 * Restores a checkpoint into the given objects (all that the file holds and the caller passes),
 * libtorch's RNG state and the JS generator, and returns epoch, step and config. A model of
 * another architecture or size gives an error naming the file and the mismatched keys.
 */
export function loadCheckpoint(path: string, parts: Omit<CheckpointParts, 'epoch' | 'step' | 'config'>): CheckpointInfo {
  checkParts('loadCheckpoint', parts);
  const { tensors, info, state } = readCheckpoint(path, 'loadCheckpoint');
  const made: Tensor[] = [];
  try {
    const restore = (name: string, target: Stateful | undefined, saved: unknown) => {
      if (!target) return;
      if (saved === null || saved === undefined) throw new Error(`loadCheckpoint: ${path} holds no ${name} state`);
      try {
        target.loadStateDict(unpack(saved, tensors, made, path));
      } catch (e) {
        throw new Error(`loadCheckpoint: ${path}: cannot restore the ${name}: ${(e as Error).message}`);
      }
    };
    restore('model', parts.model, state.model);
    restore('optimizer', parts.optimizer, state.optimizer);
    restore('scheduler', parts.scheduler, state.scheduler);
    for (const [k, v] of Object.entries(parts.extra ?? {})) restore(`extra.${k}`, v, state.extra?.[k]);
    const rng = unpack(state.rng?.torch, tensors, made, path);
    if (rng instanceof Tensor) torch.setRngState(rng);
    // The CUDA generators come back where the devices exist: a GPU run resumes on the GPU
    // bit-exactly, and a checkpoint saved on a GPU still loads on a CPU-only machine.
    const cudaRng = unpack(state.rng?.cuda ?? [], tensors, made, path);
    if (Array.isArray(cudaRng)) {
      cudaRng.forEach((t, i) => {
        if (t instanceof Tensor && i < torch.cuda.deviceCount()) torch.cuda.setRngState(t, i);
      });
    }
    if (parts.random) {
      if (typeof state.rng?.random !== 'number') throw new Error(`loadCheckpoint: ${path} holds no JS generator state`);
      parts.random.setState(state.rng.random);
    }
  } finally {
    torch.dispose(made);
  }
  return info;
}
