#!/usr/bin/env node
// Writes a float16 copy of a checkpoint's floating-point tensors (integer ones, such as BatchNorm's
// num_batches_tracked, stay as they are), keeping its metadata: what prediction needs travels with
// it. For shipping weights at half the size; loading casts them back to the model's float32.
// Usage: node scripts/half-weights.mjs <in.safetensors> <out.safetensors>   (after `npm run build`)
import { torch } from '../dist/index.js';
import { loadSafetensors, loadSafetensorsMetadata, saveSafetensors } from '../dist/torch/serialization/index.js';

const [input, output] = process.argv.slice(2);
if (!input || !output) {
  console.error('usage: node scripts/half-weights.mjs <in.safetensors> <out.safetensors>');
  process.exit(2);
}
const tensors = loadSafetensors(input);
const metadata = loadSafetensorsMetadata(input);
const half = torch.tidy(() =>
  torch.keep(Object.fromEntries(Object.entries(tensors).map(([k, t]) => [k, t.dtype === 'float32' ? t.half() : t.clone()]))),
);
saveSafetensors(output, half, { metadata });
torch.dispose([...Object.values(tensors), ...Object.values(half)]);
console.log(`${output}: ${Object.keys(half).length} tensors, float32 -> float16`);
