// Pretrained encoder weights from local files. 'imagenet' looks in a cache folder and never
// downloads behind the user's back (smp's most reported pain); a path loads that file.
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { torch, Tensor } from '../../torch/index.js';
import { checkString } from '../../validate.js';
import type { Encoder, EncoderSpec } from './base.js';

/** SEGKIT_WEIGHTS_DIR, else ~/.cache/segkit/weights. */
export function weightsDir(): string {
  return process.env.SEGKIT_WEIGHTS_DIR ?? join(homedir(), '.cache', 'segkit', 'weights');
}

/** The file `encoderWeights: 'imagenet'` reads for an encoder. */
export function imagenetWeightsPath(spec: EncoderSpec): string {
  if (!spec.imagenet?.fileName) throw new Error(`encoder ${spec.name} has no ImageNet weights`);
  return join(weightsDir(), spec.imagenet.fileName);
}

function readWeights(path: string): Record<string, Tensor> {
  let dict: unknown = path.endsWith('.safetensors') ? torch.loadSafetensors(path) : torch.loadPth(path);
  // Training checkpoints wrap the weights: {'state_dict': ...} or {'model': ...}.
  for (const key of ['state_dict', 'model']) {
    const inner = (dict as Record<string, unknown>)[key];
    if (inner && typeof inner === 'object' && !(inner instanceof Tensor)) {
      const rest = { ...(dict as Record<string, unknown>) };
      delete rest[key];
      torch.dispose(rest);
      dict = inner;
    }
  }
  const out: Record<string, Tensor> = {};
  for (const [k, v] of Object.entries(dict as Record<string, unknown>)) {
    if (v instanceof Tensor) out[k] = v;
    else torch.dispose(v);
  }
  return out;
}

/**
 * Loads weights into an encoder: 'imagenet' (from weightsDir()) or a .pth/.pt/.safetensors
 * path. Keys the encoder lacks (a classifier) are ignored; a key it needs that the file lacks,
 * or a shape that differs, is an error naming the file and the keys.
 */
export function loadEncoderWeights(encoder: Encoder, spec: EncoderSpec, source: string): void {
  let path = checkString('loadEncoderWeights', 'source', source, "'imagenet' or a file path");
  if (source === 'imagenet') {
    path = imagenetWeightsPath(spec);
    // A copy converted to safetensors under the same stem is as good (and never unpickled).
    const converted = path.replace(/\.pth$/, '.safetensors');
    if (!existsSync(path) && existsSync(converted)) path = converted;
    if (!existsSync(path)) {
      throw new Error(
        `encoderWeights 'imagenet' for ${spec.name}: no file at ${path}. segkit does not download on its own: ` +
          `put the weights there${spec.imagenet?.url ? ` (${spec.imagenet.url})` : ''} or a .safetensors copy under the same stem, set SEGKIT_WEIGHTS_DIR, or pass the file's path as encoderWeights`,
      );
    }
  } else if (!existsSync(path)) {
    throw new Error(`encoderWeights: no file at ${path} (expected 'imagenet', null, or a .pth/.safetensors path)`);
  }
  const raw = readWeights(path);
  const dict = spec.remapWeights ? spec.remapWeights(raw) : raw;
  try {
    const own = encoder.stateDict();
    const relevant: Record<string, Tensor> = {};
    for (const k of Object.keys(dict)) if (k in own) relevant[k] = dict[k]!;
    const r = encoder.loadStateDict(relevant, { strict: false });
    const problems = [
      ...r.missingKeys.map((k) => `missing ${k}`),
      ...r.mismatchedKeys.map((m) => `${m.key}: file has [${m.received.join(', ')}], encoder needs [${m.expected.join(', ')}]`),
    ];
    if (problems.length) {
      throw new Error(
        `encoderWeights ${path} do not fit encoder ${spec.name}: ${problems.slice(0, 8).join('; ')}${problems.length > 8 ? `; and ${problems.length - 8} more` : ''}`,
      );
    }
  } finally {
    torch.dispose(raw);
    torch.dispose(dict);
  }
}
