// The deterministic weight rule of ../shared/fixtures/README.md (the smp U-Net fixture's), so
// parity fixtures store only inputs and outputs: every state-dict entry is rebuilt from its name.
import { torch, type Tensor, type nn } from '../src/index.js';

function fnv1a(name: string): number {
  let h = 0x811c9dc5;
  for (const b of Buffer.from(name, 'utf8')) h = Math.imul(h ^ b, 0x01000193) >>> 0;
  return h;
}

/** u[i] in [0, 1): the README's integer hash of (fnv1a(name) + i * 0x9E3779B9) mod 2^32. */
export function ruleUniforms(name: string, n: number): Float64Array {
  const base = fnv1a(name);
  const u = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let x = (base + Math.imul(i, 0x9e3779b9)) >>> 0;
    x ^= x >>> 16;
    x = Math.imul(x, 0x85ebca6b) >>> 0;
    x ^= x >>> 13;
    x = Math.imul(x, 0xc2b2ae35) >>> 0;
    x ^= x >>> 16;
    u[i] = (x >>> 0) / 4294967296;
  }
  return u;
}

/** The value the rule gives the entry `name` of `shape` (float32, or int64 zeros for num_batches_tracked). */
export function ruleValue(name: string, shape: readonly number[]): Tensor {
  if (name.endsWith('num_batches_tracked')) return torch.zeros([...shape], { dtype: 'int64' });
  const numel = shape.reduce((a, b) => a * b, 1);
  const u = ruleUniforms(name, numel);
  const v = new Float32Array(numel);
  if (shape.length >= 2) {
    const bound = Math.sqrt(3 / (numel / shape[0]!));
    for (let i = 0; i < numel; i++) v[i] = (2 * u[i]! - 1) * bound;
  } else if (name.endsWith('running_var') || (shape.length === 1 && name.endsWith('.weight'))) {
    for (let i = 0; i < numel; i++) v[i] = 0.5 + u[i]!;
  } else {
    for (let i = 0; i < numel; i++) v[i] = 0.2 * (u[i]! - 0.5);
  }
  return torch.tensor(v, { shape: [...shape] });
}

/** Fills every state-dict entry of a model by the rule. */
export function fillByRule(model: nn.Module): void {
  const dict: Record<string, Tensor> = {};
  try {
    for (const [k, t] of Object.entries(model.stateDict())) dict[k] = ruleValue(k, t.shape);
    model.loadStateDict(dict);
  } finally {
    torch.dispose(dict);
  }
}
