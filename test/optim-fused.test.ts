// Adam's and AdamW's `fused: true` (native/optim.cc: one pass over each parameter's memory):
// 20 steps must give the unfused update's parameters and state, element for element, up to the
// rounding of ATen's own scalar tail loops (which can contract addcmul into a fused
// multiply-add: measured, 4 to 17 of 214,173-285,564 elements differ after 20 steps, by float
// rounding; the bound is 1e-6 of the parameter's scale). Covered: sizes on both sides of the vector width and the parallel grain, a
// channels_last parameter (taken by the ATen fallback), step counts that differ, amsgrad,
// maximize, weight decay; errors for float64 parameters; the state dict; no leaked tensors.
import { describe } from 'node:test';
import assert from 'node:assert/strict';
import { torch, type Tensor } from '../src/index.js';
import { Adam, AdamW, type Optimizer } from '../src/torch/optim/index.js';
import { assertThrows, tensorTest } from './helpers.js';
import { smoothSteps } from './optim-fixture.js';

type Make = (params: Tensor[], fused: boolean) => Optimizer<any>;

const COMBOS: Record<string, Make> = {
  adam: (p, f) => new Adam(p, { lr: 1e-2, fused: f }),
  'adam weightDecay': (p, f) => new Adam(p, { lr: 1e-2, weightDecay: 1e-2, fused: f }),
  'adam amsgrad maximize': (p, f) => new Adam(p, { lr: 1e-2, betas: [0.8, 0.95], amsgrad: true, maximize: true, fused: f }),
  'adam amsgrad weightDecay': (p, f) => new Adam(p, { lr: 1e-2, amsgrad: true, weightDecay: 1e-3, fused: f }),
  adamw: (p, f) => new AdamW(p, { lr: 1e-2, fused: f }),
  'adamw amsgrad maximize': (p, f) => new AdamW(p, { lr: 1e-2, weightDecay: 0.1, amsgrad: true, maximize: true, fused: f }),
};

// 70001 elements: several parallel chunks and a tail; [5, 7] and [3]: shorter than a vector.
const SHAPES = [[70001], [16, 8, 3, 3], [5, 7], [3], [2, 4, 5, 5]];

function makeParams(): Tensor[] {
  torch.manualSeed(11);
  return torch.tidy(() =>
    SHAPES.map((s, i) => {
      const p = torch.randn(s);
      // The last one in channels_last: dense but not contiguous, so it takes the ATen path.
      return (i === 4 ? p.to({ memoryFormat: 'channelsLast' }) : p).requiresGrad_();
    }),
  );
}

/** 20 steps of a smooth non-quadratic loss; parameter 2 skips every third step. */
function run(make: Make, fused: boolean): { params: Tensor[]; opt: Optimizer<any> } {
  const params = makeParams();
  const opt = make(params, fused);
  smoothSteps(params, opt, { skip: 2 });
  return { params, opt };
}

/** Elements that differ at all, and the largest difference relative to b's largest magnitude. */
function compare(a: Tensor, b: Tensor): { differ: number; rel: number } {
  return torch.tidy(() => {
    const d = a.sub(b).abs();
    return { differ: d.gt(0).sum().item(), rel: d.max().item() / Math.max(b.abs().max().item(), 1e-30) };
  });
}

describe('fused: true gives what fused: false gives (CPU, 20 steps)', () => {
  for (const [name, make] of Object.entries(COMBOS)) {
    tensorTest(name, () => {
      const a = run(make, false);
      const b = run(make, true);
      let differ = 0;
      let total = 0;
      const check = (x: Tensor, y: Tensor, what: string) => {
        const c = compare(x, y);
        assert.ok(c.rel <= 1e-6, `${name}: ${what} differs by ${c.rel} of its scale`);
        differ += c.differ;
        total += y.numel;
      };
      a.params.forEach((p, k) => check(b.params[k]!, p, `param ${k}`));
      const [sa, sb] = [a.opt.stateDict(), b.opt.stateDict()];
      for (const [i, entry] of Object.entries(sa.state)) {
        for (const [k, v] of Object.entries(entry)) {
          if (v instanceof torch.Tensor) check(sb.state[i]![k] as Tensor, v, `state[${i}].${k}`);
          else assert.equal(sb.state[i]![k], v, `state[${i}].${k}`);
        }
      }
      assert.equal(sa.state[2]!.step, 14, 'parameter 2 skipped 6 of 20 steps');
      // Bit for bit in all but a few elements (ATen's scalar tails), across 20 steps of drift.
      assert.ok(differ / total < 1e-3, `${name}: ${differ} of ${total} elements differ`);
      assert.equal(sb.param_groups[0]!.fused, true);
      assert.equal(sa.param_groups[0]!.fused, false);
      for (const r of [a, b]) {
        r.opt.dispose();
        torch.dispose(r.params);
      }
    });
  }
});

describe('fused behaviour', () => {
  tensorTest('the default is null (unfused) and stays out of the state dict; fused: false is written and read back', () => {
    const p = [torch.zeros([2], { requiresGrad: true })];
    for (const opt of [new Adam(p), new AdamW(p)]) {
      assert.equal(opt.defaults.fused, null);
      assert.ok(!('fused' in opt.stateDict().param_groups[0]!), 'an unset fused stays out of the state dict');
      opt.dispose();
    }
    const opt = new Adam(p, { fused: false });
    const sd = opt.stateDict();
    assert.equal(sd.param_groups[0]!.fused, false);
    const other = new Adam(p, { fused: true });
    other.loadStateDict(sd);
    assert.equal(other.paramGroups[0]!.fused, false);
    for (const o of [opt, other]) o.dispose();
    torch.dispose(p);
  });

  tensorTest('float64 parameters are refused by name; a bad option value is refused', () => {
    const p = [torch.ones([3], { dtype: 'float64', requiresGrad: true })];
    const opt = new AdamW(p, { fused: true });
    torch.tidy(() => p[0]!.sum().backward());
    assertThrows(
      () => opt.step(),
      TypeError,
      /AdamW\.step: fused must be false for parameters that are not float32 on the CPU \(parameter 0 is float64 on cpu\), got true/,
    );
    assert.deepEqual(opt.stateDict().state, {}, 'a refused step leaves no state behind (no step counted)');
    assertThrows(() => new Adam(p, { fused: 'yes' as never }), TypeError, /fused/);
    opt.dispose();
    torch.dispose(p);
  });
});
