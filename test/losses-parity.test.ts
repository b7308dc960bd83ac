// segkit's losses against segmentation_models_pytorch's own loss classes: values and gradients
// with respect to yPred on the fixed inputs of test/fixtures/losses (written by
// scripts/fixtures/make_loss_fixtures.py from smp's source with Debian's torch 1.13; its header
// says which two cases use a patched smp because smp itself fails there).
//
// Bounds:
// - float64: value and every gradient element within 1e-6 relative of smp's float64 result
//   (|a - e| <= 1e-6 |e|, plus 1e-15 absolute for elements that are zero);
// - float32: the value within 1e-5 relative of smp's float32 value, and the gradient within
//   1e-4 relative (plus 1e-6 * max |e| absolute) of smp's float64 gradient (float32 sums of a
//   few hundred terms differ from float64 by about 1e-6 relative; 1e-4 leaves room for cancellation);
//   where the float64 reference is patched (Lovasz, multilabel Focal with ignoreIndex), the
//   float32 gradient of unpatched smp is stored too and must match within 1e-5 relative.
import { after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { torch, type Tensor } from '../src/index.js';
import * as losses from '../src/losses/index.js';
import { FIXTURES, tensorTest } from './helpers.js';

const DIR = join(FIXTURES, 'losses');

interface Case {
  name: string;
  cls: string;
  mode: losses.LossMode | null;
  options: Record<string, unknown>;
  pred: string;
  prob: 'sigmoid' | 'softmax' | null;
  target: string;
  reference: string;
  value: number;
  value_f32: number;
}

const meta = JSON.parse(readFileSync(join(DIR, 'cases.json'), 'utf8')) as { cases: Case[]; patches: Record<string, string> };
const fx = torch.loadSafetensors(join(DIR, 'losses.safetensors'));
after(() => torch.dispose(fx));

function input(name: string): Tensor {
  const t = fx[name];
  if (t === undefined) throw new Error(`losses.safetensors has no tensor "${name}" (re-run scripts/fixtures/make_loss_fixtures.py)`);
  return t;
}

/** The segkit loss a case describes (its options are smp's in camelCase; `$tensor` names a fixture tensor). */
function build(c: Case): losses.Loss {
  const options: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(c.options)) {
    options[k] = v !== null && typeof v === 'object' && '$tensor' in v ? input((v as { $tensor: string }).$tensor) : v;
  }
  const ctor = (losses as unknown as Record<string, new (...args: unknown[]) => losses.Loss>)[c.cls];
  assert.ok(ctor, `segkit has no losses.${c.cls}`);
  return c.mode === null ? new ctor(options) : new ctor(c.mode, options);
}

/** The loss value and yPred's gradient in `dtype`. */
function run(c: Case, dtype: 'float32' | 'float64'): { value: number; grad: Tensor } {
  const loss = build(c);
  try {
    return torch.tidy(() => {
      let pred = input(c.pred).to({ dtype });
      if (c.prob === 'sigmoid') pred = pred.sigmoid();
      if (c.prob === 'softmax') pred = pred.softmax(1);
      pred = pred.detach().requiresGrad_();
      const t = input(c.target);
      const target = t.dtype === 'float64' ? t.to({ dtype }) : t;
      const out = loss.forward(pred, target);
      assert.deepEqual([...out.shape], [], 'a 0-d loss');
      assert.equal(out.dtype, dtype);
      out.backward();
      return { value: out.item(), grad: pred.grad!.clone() };
    });
  } finally {
    loss.dispose();
  }
}

function assertRelative(actual: Tensor, expected: Tensor, rtol: number, atol: number, what: string): void {
  assert.deepEqual([...actual.shape], [...expected.shape], `${what}: shape`);
  const worst = torch.tidy(() => {
    const e = expected.double();
    const excess = actual.double().sub(e).abs().sub(e.abs().mul(rtol).add(atol));
    const i = excess.flatten().argmax().item();
    return { excess: excess.max().item(), a: actual.double().flatten().select(0, i).item(), e: e.flatten().select(0, i).item(), i };
  });
  assert.ok(worst.excess <= 0, `${what}: element ${worst.i} is ${worst.a}, smp gives ${worst.e} (rtol ${rtol}, atol ${atol})`);
}

function relErr(a: number, e: number): number {
  return e === 0 ? Math.abs(a) : Math.abs(a - e) / Math.abs(e);
}

describe("losses equal smp's (values and gradients)", () => {
  for (const c of meta.cases) {
    const ref = c.reference === 'smp' ? 'smp' : `patched smp: ${meta.patches[c.reference]}`;
    tensorTest(`${c.name}: ${c.cls}(${c.mode ?? ''} ${JSON.stringify(c.options)}) vs ${ref}`, () => {
      const f64 = run(c, 'float64');
      try {
        assert.ok(
          relErr(f64.value, c.value) <= 1e-6 || Math.abs(f64.value - c.value) <= 1e-15,
          `float64 value ${f64.value}, smp ${c.value}`,
        );
        assertRelative(f64.grad, input(`${c.name}.grad`), 1e-6, 1e-15, 'float64 gradient');
      } finally {
        f64.grad.dispose();
      }
      const f32 = run(c, 'float32');
      try {
        assert.ok(relErr(f32.value, c.value_f32) <= 1e-5 || Math.abs(f32.value) <= 1e-7, `float32 value ${f32.value}, smp ${c.value_f32}`);
        const g64 = input(`${c.name}.grad`);
        const scale = torch.tidy(() => g64.abs().max().item());
        assertRelative(f32.grad, g64, 1e-4, 1e-6 * scale, 'float32 gradient vs float64');
        const g32 = fx[`${c.name}.grad_f32`];
        if (g32) assertRelative(f32.grad, g32, 1e-5, 1e-7 * scale, "float32 gradient vs smp's float32");
      } finally {
        f32.grad.dispose();
      }
    });
  }
});
