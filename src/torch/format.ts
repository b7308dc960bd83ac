// PyTorch-like printing: `tensor([[1.0000, 2.0000]], dtype=int64, requires_grad=true)`,
// summarising with "..." past 1000 elements as PyTorch does.
import type { Tensor } from './tensor.js';

const EDGE = 3;
const THRESHOLD = 1000;

export function formatTensor(t: Tensor): string {
  const shape = t.shape;
  const dtype = t.dtype;
  const flat = t.toArray();
  const isFloat = dtype === 'float32' || dtype === 'float64' || dtype === 'float16' || dtype === 'bfloat16';
  const summarise = t.numel > THRESHOLD;
  const fmt = (v: number | bigint): string => {
    if (dtype === 'bool') return v ? 'True' : 'False';
    if (!isFloat) return String(v);
    const x = Number(v);
    if (!Number.isFinite(x)) return Number.isNaN(x) ? 'nan' : x > 0 ? 'inf' : '-inf';
    const a = Math.abs(x);
    return a !== 0 && (a >= 1e8 || a < 1e-4) ? x.toExponential(4) : x.toFixed(4);
  };
  const strides: number[] = [];
  let s = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    strides[d] = s;
    s *= shape[d]!;
  }
  const render = (d: number, offset: number, indent: string): string => {
    if (d === shape.length) return fmt(flat[offset]!);
    const n = shape[d]!;
    const idx = summarise && n > 2 * EDGE ? [...range(0, EDGE), -1, ...range(n - EDGE, n)] : range(0, n);
    const parts = idx.map((i) => (i < 0 ? '...' : render(d + 1, offset + i * strides[d]!, `${indent} `)));
    const sep = d === shape.length - 1 ? ', ' : `,${'\n'.repeat(shape.length - d - 1)}${indent} `;
    return `[${parts.join(sep)}]`;
  };
  const body = render(0, 0, '       ');
  const extras: string[] = [];
  if (dtype !== 'float32' && dtype !== 'int64' && dtype !== 'bool') extras.push(`dtype=${dtype}`);
  if (dtype === 'int64' && t.numel === 0) extras.push('dtype=int64');
  if (t.device !== 'cpu') extras.push(`device='${t.device}'`);
  const fn = t.gradFn;
  if (fn) extras.push(`grad_fn=<${fn}>`);
  else if (t.requiresGrad) extras.push('requires_grad=True');
  return `tensor(${body}${extras.length ? `, ${extras.join(', ')}` : ''})`;
}

function range(a: number, b: number): number[] {
  return Array.from({ length: b - a }, (_, i) => a + i);
}
