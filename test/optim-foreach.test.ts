// The optimizers' `foreach` option (PyTorch's multi-tensor updates over aten's _foreach_* ops):
// on the CPU every _foreach_* op loops over its tensors calling the single-tensor op, so 20 steps
// with foreach: true must give exactly the parameters and state of foreach: false, for every
// optimizer and option combination, with mixed dtypes, parameters that skip steps (so Adam's
// step counts differ) and parameters without gradients. Also: the PyTorch fixtures with foreach
// on, the default (null: foreach only when every parameter is on CUDA), option errors, .grad left
// untouched, and a flat live-tensor count.
import { describe } from 'node:test';
import assert from 'node:assert/strict';
import { torch, type Tensor } from '../src/index.js';
import { SGD, Adam, AdamW, RMSprop, type Optimizer } from '../src/torch/optim/index.js';
import { FOREACH_OPS, useForeach, buckets } from '../src/torch/optim/foreach.js';
import { atenOptional } from '../src/torch/ops/registry.js';
import { assertThrows, tensorTest } from './helpers.js';
import { CASES, checkFinal, checkStateDict, disposeNet, makeNet, smoothSteps, train } from './optim-fixture.js';

type Make = (params: Tensor[], foreach: boolean) => Optimizer<any>;

const COMBOS: Record<string, Make> = {
  'sgd plain': (p, f) => new SGD(p, { lr: 0.05, foreach: f }),
  'sgd momentum': (p, f) => new SGD(p, { lr: 0.05, momentum: 0.9, foreach: f }),
  'sgd momentum dampening weightDecay': (p, f) => new SGD(p, { lr: 0.05, momentum: 0.8, dampening: 0.3, weightDecay: 1e-2, foreach: f }),
  'sgd nesterov weightDecay': (p, f) => new SGD(p, { lr: 0.05, momentum: 0.9, nesterov: true, weightDecay: 1e-3, foreach: f }),
  'sgd nesterov maximize': (p, f) => new SGD(p, { lr: 0.05, momentum: 0.9, nesterov: true, maximize: true, foreach: f }),
  'sgd weightDecay maximize': (p, f) => new SGD(p, { lr: 0.05, weightDecay: 1e-2, maximize: true, foreach: f }),
  adam: (p, f) => new Adam(p, { lr: 1e-2, foreach: f }),
  'adam weightDecay': (p, f) => new Adam(p, { lr: 1e-2, weightDecay: 1e-2, foreach: f }),
  'adam amsgrad maximize': (p, f) => new Adam(p, { lr: 1e-2, betas: [0.8, 0.95], amsgrad: true, maximize: true, foreach: f }),
  'adam amsgrad weightDecay': (p, f) => new Adam(p, { lr: 1e-2, amsgrad: true, weightDecay: 1e-3, foreach: f }),
  adamw: (p, f) => new AdamW(p, { lr: 1e-2, foreach: f }),
  'adamw amsgrad maximize': (p, f) => new AdamW(p, { lr: 1e-2, weightDecay: 0.1, amsgrad: true, maximize: true, foreach: f }),
  rmsprop: (p, f) => new RMSprop(p, { lr: 1e-2, foreach: f }),
  'rmsprop centered momentum weightDecay': (p, f) =>
    new RMSprop(p, { lr: 1e-3, alpha: 0.9, momentum: 0.5, centered: true, weightDecay: 1e-2, foreach: f }),
  'rmsprop momentum maximize': (p, f) => new RMSprop(p, { lr: 1e-3, momentum: 0.9, maximize: true, foreach: f }),
  'sgd param groups': (p, f) =>
    new SGD(
      [
        { params: p.slice(0, 2), lr: 0.02, momentum: 0.5 },
        { params: p.slice(2), nesterov: true, weightDecay: 1e-3, foreach: !f },
      ],
      { lr: 0.05, momentum: 0.9, foreach: f },
    ),
};

const SHAPES = [[4, 3, 3, 3], [4], [4], [2, 4, 1, 1], [2], [5, 7]];

/** The same start for both runs: float32 params, one float64 (a second dtype bucket). */
function makeParams(): Tensor[] {
  torch.manualSeed(7);
  return torch.tidy(() => SHAPES.map((s, i) => torch.randn(s, { dtype: i === 4 ? 'float64' : 'float32' }).requiresGrad_()));
}

/**
 * Runs 20 steps of a smooth non-quadratic loss. Parameter 5 never has a gradient; parameter 3
 * skips every third step (its gradient is set to null), so its step count falls behind.
 */
function run(make: Make, foreach: boolean): { params: Tensor[]; opt: Optimizer<any> } {
  const params = makeParams();
  const opt = make(params, foreach);
  smoothSteps(params, opt, { used: 5, skip: 3 });
  return { params, opt };
}

function same(a: Tensor, b: Tensor, what: string): void {
  assert.equal(a.dtype, b.dtype, `${what}: dtype`);
  const d = torch.tidy(() => a.double().sub(b.double()).abs().max().item());
  assert.equal(d, 0, `${what}: max |diff| ${d}`);
}

describe('foreach: true gives exactly what foreach: false gives (CPU, 20 steps)', () => {
  for (const [name, make] of Object.entries(COMBOS)) {
    tensorTest(name, () => {
      const a = run(make, false);
      const b = run(make, true);
      a.params.forEach((p, k) => same(b.params[k]!, p, `param ${k}`));
      const sa = a.opt.stateDict();
      const sb = b.opt.stateDict();
      assert.deepEqual(Object.keys(sb.state), Object.keys(sa.state));
      assert.ok(!('5' in sa.state), 'a parameter that never had a gradient has no state');
      for (const [i, entry] of Object.entries(sa.state)) {
        assert.deepEqual(Object.keys(sb.state[i]!), Object.keys(entry), `state[${i}] keys`);
        for (const [k, v] of Object.entries(entry)) {
          if (v instanceof torch.Tensor) same(sb.state[i]![k] as Tensor, v, `state[${i}].${k}`);
          else assert.equal(sb.state[i]![k], v, `state[${i}].${k}`);
        }
      }
      if ('step' in (sa.state[0] ?? {})) assert.equal(sa.state[3]!.step, 14, 'parameter 3 skipped 6 of 20 steps');
      assert.deepEqual(
        sb.param_groups.map((g) => g.foreach),
        sa.param_groups.map((g) => !g.foreach),
      );
      for (const r of [a, b]) {
        r.opt.dispose();
        torch.dispose(r.params);
      }
    });
  }
});

describe('foreach against the PyTorch 1.13 fixtures', () => {
  for (const [name, c] of Object.entries(CASES)) {
    tensorTest(`${name} with foreach: true`, () => {
      const net = makeNet();
      const opt = c.opt(net.params);
      for (const g of opt.paramGroups) g.foreach = true;
      const sched = c.sched?.(opt);
      const onStep = (i: number): void => {
        if (i !== 9) return;
        // PyTorch's run had foreach None; the state must be PyTorch's all the same.
        for (const g of opt.paramGroups) g.foreach = null;
        checkStateDict(name, opt.stateDict());
        for (const g of opt.paramGroups) g.foreach = true;
      };
      const r = train(net, opt, 20, { sched, clip: c.clip, onStep });
      checkFinal(name, net, r);
      opt.dispose();
      disposeNet(net);
    });
  }
});

describe('foreach behaviour', () => {
  tensorTest('every _foreach_* overload used exists in this libtorch', () => {
    for (const [name, overload] of FOREACH_OPS) assert.ok(atenOptional(name, overload) >= 0, `aten::${name}.${overload}`);
  });

  tensorTest('the default is null: foreach only when every parameter is on CUDA', () => {
    const p = [torch.zeros([2], { requiresGrad: true })];
    for (const opt of [new SGD(p, { lr: 0.1 }), new Adam(p), new AdamW(p), new RMSprop(p)]) {
      assert.equal(opt.defaults.foreach, null);
      assert.equal(opt.paramGroups[0]!.foreach, null);
      assert.equal(opt.stateDict().param_groups[0]!.foreach, null);
    }
    assert.equal(useForeach(null, p), false);
    assert.equal(useForeach(true, p), true);
    assert.equal(useForeach(false, p), false);
    assert.equal(useForeach(null, []), false);
    torch.dispose(p);
  });

  tensorTest('buckets split by device, dtype and key, keeping order', () => {
    torch.tidy(() => {
      const ps = [
        torch.zeros([1]),
        torch.zeros([1], { dtype: 'float64' }),
        torch.zeros([1]),
        torch.zeros([1], { dtype: 'float64' }),
        torch.zeros([1]),
      ];
      assert.deepEqual(buckets(ps), [
        [0, 2, 4],
        [1, 3],
      ]);
      assert.deepEqual(
        buckets(ps, (i) => (i < 2 ? 1 : 2)),
        [[0], [1], [2, 4], [3]],
      );
    });
  });

  tensorTest("gradients are left untouched (PyTorch's foreach Nesterov adds into .grad; segkit does not)", () => {
    for (const make of [
      COMBOS['sgd nesterov weightDecay']!,
      COMBOS['rmsprop centered momentum weightDecay']!,
      COMBOS['adam weightDecay']!,
    ]) {
      const params = makeParams();
      const opt = make(params, true);
      for (let i = 0; i < 2; i++) {
        torch.tidy(() =>
          params.forEach((p) => {
            p.grad = p.mul(2).detach();
          }),
        );
        const before = torch.tidy(() => params.map((p) => p.grad!.clone()));
        opt.step();
        params.forEach((p, k) => same(p.grad!, before[k]!, `${opt.name} grad ${k}`));
        torch.dispose(before);
      }
      opt.dispose();
      torch.dispose(params);
    }
  });

  tensorTest('step() keeps the live-tensor count flat with foreach on', () => {
    for (const make of Object.values(COMBOS)) {
      const params = makeParams();
      torch.tidy(() =>
        params.forEach((p) => {
          p.grad = p.mul(0.1).detach();
        }),
      );
      const opt = make(params, true);
      opt.step();
      const live = torch.liveTensors();
      for (let i = 0; i < 3; i++) opt.step();
      assert.equal(torch.liveTensors(), live, `${opt.name}`);
      opt.dispose();
      torch.dispose(params);
    }
  });

  tensorTest('bad foreach values name the optimizer, the option, what was expected and what came', () => {
    const p = [torch.zeros([2], { requiresGrad: true })];
    assertThrows(() => new SGD(p, { lr: 0.1, foreach: 1 as never }), TypeError, /^SGD: foreach must be true, false or null, got 1$/);
    assertThrows(() => new Adam(p, { foreach: 'true' as never }), TypeError, /^Adam: foreach must be true, false or null, got 'true'$/);
    assertThrows(() => new AdamW(p, { foreach: [true] as never }), TypeError, /^AdamW: foreach must be true, false or null, got \[true\]$/);
    assertThrows(
      () => new RMSprop(p, { foreach: {} as never }),
      TypeError,
      /^RMSprop: foreach must be true, false or null, got an object$/,
    );
    assertThrows(
      () => new SGD([{ params: p, foreach: 0 as never }], { lr: 0.1 }),
      TypeError,
      /^SGD: param group 0: foreach must be true, false or null, got 0$/,
    );
    const opt = new SGD(p, { lr: 0.1, foreach: true });
    assert.equal(opt.defaults.foreach, true);
    assert.equal(new SGD(p, { lr: 0.1, foreach: undefined }).defaults.foreach, null);
    const sd = opt.stateDict();
    sd.param_groups[0]!.foreach = 'yes';
    assertThrows(
      () => opt.loadStateDict(sd),
      TypeError,
      /SGD: loadStateDict: param_groups\[0\]: foreach must be true, false or null, got 'yes'/,
    );
    sd.param_groups[0]!.foreach = false;
    opt.loadStateDict(sd);
    assert.equal(opt.paramGroups[0]!.foreach, false, "a PyTorch state dict's foreach is loaded");
    torch.dispose(p);
  });
});
