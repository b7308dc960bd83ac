// The optimizer tests' shared fixture: test/fixtures/optim/optim.{safetensors,json} (written by
// scripts/fixtures/make_optim_fixtures.py), the small conv + batch-norm net trained there, rebuilt
// with F.conv2d / F.batchNorm from the stored weights, the training loop and the comparisons.
import { after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { torch, F, type Tensor } from '../src/index.js';
import {
  SGD,
  Adam,
  AdamW,
  RMSprop,
  CosineAnnealingLR,
  OneCycleLR,
  clipGradNorm_,
  type Optimizer,
  type LRScheduler,
  type OptimizerStateDict,
} from '../src/torch/optim/index.js';
import { FIXTURES, maxAbsDiff } from './helpers.js';

export const fixture = torch.loadSafetensors(join(FIXTURES, 'optim', 'optim.safetensors'));
export const J = JSON.parse(readFileSync(join(FIXTURES, 'optim', 'optim.json'), 'utf8')) as {
  optimizers: Record<string, { state: Record<string, Record<string, number | null>>; param_groups: Record<string, unknown>[] }>;
};
after(() => torch.dispose(fixture));

export function fx(name: string): Tensor {
  const t = fixture[name];
  if (t === undefined) throw new Error(`optim.safetensors has no tensor "${name}" (re-run scripts/fixtures/make_optim_fixtures.py)`);
  return t;
}

export const TOL = 1e-5;
export function near(actual: Tensor, name: string, tol = TOL): void {
  const d = maxAbsDiff(actual, fx(name));
  assert.ok(d <= tol, `${name}: max |diff| ${d} > ${tol}`);
}

// ---------------------------------------------------------------- the net, as in the fixture script

export const PARAM_NAMES = ['conv1.weight', 'bn.weight', 'bn.bias', 'conv2.weight', 'conv2.bias'];
export const N_PARAMS = PARAM_NAMES.length;
export interface Net {
  params: Tensor[];
  rm: Tensor;
  rv: Tensor;
  nbt: number;
}

export function makeNet(from = (k: number) => fx(`init.${PARAM_NAMES[k]}`)): Net {
  return torch.tidy(() => ({
    params: Array.from({ length: N_PARAMS }, (_, k) => from(k).clone().requiresGrad_()),
    rm: torch.zeros([8]),
    rv: torch.ones([8]),
    nbt: 0,
  }));
}
export const disposeNet = (n: Net): void => torch.dispose([n.params, n.rm, n.rv]);

export function forward(net: Net): Tensor {
  const [w1, g, beta, w2, b2] = net.params as [Tensor, Tensor, Tensor, Tensor, Tensor];
  let h = F.conv2d(fx('data.x'), w1, { padding: 1 });
  h = F.batchNorm(h, net.rm, net.rv, { weight: g, bias: beta, training: true, momentum: 0.1, eps: 1e-5 });
  const out = F.conv2d(h.relu(), w2, { bias: b2 });
  return F.binaryCrossEntropyWithLogits(out, fx('data.y'));
}

export interface Run {
  losses: number[];
  norms: number[];
}
export function train(
  net: Net,
  opt: Optimizer<any>,
  steps: number,
  o: { sched?: LRScheduler; clip?: number; sign?: number; onStep?: (i: number) => void } = {},
): Run {
  const run: Run = { losses: [], norms: [] };
  for (let i = 0; i < steps; i++) {
    opt.zeroGrad();
    run.losses.push(
      torch.tidy(() => {
        const loss = forward(net);
        (o.sign === -1 ? loss.neg() : loss).backward();
        return loss.item();
      }),
    );
    net.nbt += 1;
    if (o.clip !== undefined) run.norms.push(clipGradNorm_(net.params, o.clip));
    opt.step();
    o.sched?.step();
    o.onStep?.(i);
  }
  return run;
}

export interface Case {
  opt: (p: Tensor[]) => Optimizer<any>;
  sched?: (o: Optimizer<any>) => LRScheduler;
  clip?: number;
}
export const CASES: Record<string, Case> = {
  sgd_nesterov: { opt: (p) => new SGD(p, { lr: 0.1, momentum: 0.9, nesterov: true, weightDecay: 1e-4 }) },
  adam: { opt: (p) => new Adam(p, { lr: 1e-2, weightDecay: 1e-4 }) },
  adamw_cosine: { opt: (p) => new AdamW(p, { lr: 1e-2, weightDecay: 0.05 }), sched: (o) => new CosineAnnealingLR(o, { tMax: 20 }) },
  rmsprop: { opt: (p) => new RMSprop(p, { lr: 1e-3, alpha: 0.9, weightDecay: 1e-4, momentum: 0.5, centered: true }) },
  rmsprop_plain: { opt: (p) => new RMSprop(p, { lr: 1e-2 }) },
  sgd_groups: {
    opt: (p) =>
      new SGD(
        [
          { params: p.slice(0, 2), lr: 0.05 },
          { params: p.slice(2), momentum: 0.5, dampening: 0.1 },
        ],
        { lr: 0.1, momentum: 0.9 },
      ),
  },
  sgd_plain: { opt: (p) => new SGD(p, { lr: 0.2 }) },
  adam_amsgrad: { opt: (p) => new Adam(p, { lr: 5e-3, betas: [0.8, 0.99], amsgrad: true }) },
  adamw_onecycle: {
    opt: (p) => new AdamW(p, { lr: 1e-3, amsgrad: true }),
    sched: (o) => new OneCycleLR(o, { maxLr: 0.02, totalSteps: 20 }),
  },
  sgd_clip: { opt: (p) => new SGD(p, { lr: 0.5, momentum: 0.9 }), clip: 0.5 },
};

/** Our state dict after 10 steps against PyTorch's: tensors, step counts, None buffers, group options. */
export function checkStateDict(name: string, sd: OptimizerStateDict): void {
  const py = J.optimizers[name]!;
  assert.deepEqual(Object.keys(sd.state).sort(), Object.keys(py.state).sort(), `${name}: state keys`);
  for (const [idx, entry] of Object.entries(sd.state)) {
    for (const [key, v] of Object.entries(entry)) {
      if (v instanceof torch.Tensor) near(v, `${name}.state10.${idx}.${key}`);
      else assert.equal(v, py.state[idx]![key], `${name}: state[${idx}].${key}`);
    }
    const pyKeys = Object.keys(py.state[idx]!).concat(
      Object.keys(fixture)
        .filter((k) => k.startsWith(`${name}.state10.${idx}.`))
        .map((k) => k.split('.').pop()!),
    );
    assert.deepEqual(Object.keys(entry).sort(), pyKeys.sort(), `${name}: state[${idx}] keys`);
  }
  assert.equal(sd.param_groups.length, py.param_groups.length);
  sd.param_groups.forEach((g, i) => {
    const pg = py.param_groups[i]!;
    for (const [k, v] of Object.entries(g)) assert.deepEqual(v, pg[k], `${name}: param_groups[${i}].${k}`);
    // What PyTorch has beyond ours is only its implementation switches.
    const extra = Object.keys(pg).filter((k) => !(k in g));
    assert.deepEqual(
      extra.filter((k) => !['foreach', 'differentiable', 'capturable', 'fused'].includes(k)),
      [],
      `${name}: missing group keys`,
    );
  });
}

export function checkFinal(name: string, net: Net, run: Run): void {
  const losses = fx(`${name}.losses`).toArray() as Float64Array;
  run.losses.forEach((l, i) => assert.ok(Math.abs(l - losses[i]!) <= TOL, `${name}: loss ${i} ${l} vs PyTorch ${losses[i]}`));
  net.params.forEach((p, k) => near(p, `${name}.final.${k}`));
  near(net.rm, `${name}.running_mean`);
  near(net.rv, `${name}.running_var`);
  assert.equal(net.nbt, Number(fx(`${name}.num_batches_tracked`).item()));
  if (run.norms.length > 0) {
    const norms = fx(`${name}.clip_norms`).toArray() as Float64Array;
    run.norms.forEach((n, i) =>
      assert.ok(Math.abs(n - norms[i]!) <= TOL * Math.max(1, norms[i]!), `${name}: clip norm ${i} ${n} vs ${norms[i]}`),
    );
  }
}

/** A checkpoint as a program would write one: copies of the weights, optimizer state and scheduler state. */
export function checkpoint(net: Net, opt: Optimizer<any>, sched?: LRScheduler) {
  const sd = opt.stateDict();
  const state: OptimizerStateDict['state'] = {};
  for (const [i, e] of Object.entries(sd.state)) {
    state[i] = Object.fromEntries(Object.entries(e).map(([k, v]) => [k, v instanceof torch.Tensor ? torch.keep(v.clone()) : v]));
  }
  return {
    weights: torch.keep(torch.tidy(() => [...net.params, net.rm, net.rv].map((t) => t.detach().clone()))),
    nbt: net.nbt,
    opt: { state, param_groups: JSON.parse(JSON.stringify(sd.param_groups)) } as OptimizerStateDict,
    sched: sched === undefined ? undefined : (JSON.parse(JSON.stringify(sched.stateDict())) as Record<string, unknown>),
  };
}

export const snap = (i: number): Tensor[] => Array.from({ length: N_PARAMS }, (_, k) => fx(`snap.${i}.${k}`));
export const inits = (): Tensor[] => PARAM_NAMES.map((n) => fx(`init.${n}`));

/**
 * `steps` optimizer steps on a smooth non-quadratic loss of params[0..used), summed in float32.
 * The parameter at `skip` loses its gradient every third step, so its step count falls behind;
 * those from `used` on never get one.
 */
export function smoothSteps(params: Tensor[], opt: Optimizer<any>, o: { skip: number; used?: number; steps?: number }): void {
  for (let i = 0; i < (o.steps ?? 20); i++) {
    opt.zeroGrad();
    torch.tidy(() => {
      const loss = params
        .slice(0, o.used ?? params.length)
        .map((p, k) =>
          p
            .mul(p)
            .mul(0.5 + 0.1 * k)
            .add(p.mul(3).sin())
            .sum()
            .float(),
        )
        .reduce((a, b) => a.add(b));
      loss.backward();
    });
    if (i % 3 === 2) params[o.skip]!.grad = null;
    opt.step();
  }
}
