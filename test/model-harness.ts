// The one harness every architecture and encoder runs through: output shape at several input
// sizes (odd ones too), a backward pass that reaches every parameter, a state-dict round trip
// through a file, eval determinism, and no leaked tensors (tensorTest). CI-sized inputs.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe } from 'node:test';
import { torch, nn, SegmentationModel, type Tensor } from '../src/index.js';
import { tensorTest } from './helpers.js';

export interface HarnessCase {
  /** Test title, e.g. 'unet / resnet34'. */
  name: string;
  /** Builds a fresh model (called more than once). */
  build: () => nn.Module;
  inChannels?: number;
  classes: number;
  /** [height, width] pairs; include sizes that are not multiples of the output stride. */
  sizes: [number, number][];
  batch?: number;
  /** Parameters that legitimately get no gradient (e.g. an unused aux head), by name. */
  noGradOk?: (name: string) => boolean;
}

function tensorsOf(out: unknown): Tensor[] {
  return out instanceof torch.Tensor ? [out] : Object.values(out as object).filter((v) => v instanceof torch.Tensor);
}

function maskOf(out: unknown): Tensor {
  if (out && typeof out === 'object' && 'mask' in out) return (out as { mask: Tensor }).mask;
  return out as Tensor;
}

export function modelHarness(c: HarnessCase): void {
  const inC = c.inChannels ?? 3;
  const batch = c.batch ?? 2;
  describe(c.name, () => {
    tensorTest('output shape matches the input size, odd sizes included', () => {
      const model = c.build();
      model.eval();
      try {
        for (const [h, w] of c.sizes) {
          torch.tidy(() => {
            const y = maskOf(torch.noGrad(() => model.forward(torch.randn([1, inC, h, w]))));
            assert.deepEqual([...y.shape], [1, c.classes, h, w], `input ${h}x${w}`);
            assert.ok(y.isfinite().all().item() === 1, `finite output at ${h}x${w}`);
          });
        }
      } finally {
        model.dispose();
      }
    });

    tensorTest('backward reaches every parameter', () => {
      const model = c.build();
      model.train();
      try {
        const [h, w] = c.sizes[0]!;
        torch.tidy(() => {
          const out = model.forward(torch.randn([batch, inC, h, w]));
          let loss = maskOf(out).float().pow(2).mean();
          if (out && typeof out === 'object' && 'label' in out) loss = loss.add((out as { label: Tensor }).label.float().pow(2).mean());
          loss.backward();
        });
        const missing = model
          .namedParameters()
          .filter(([n, p]) => p.grad === null && !c.noGradOk?.(n))
          .map(([n]) => n);
        assert.deepEqual(missing, [], 'parameters without a gradient');
        model.zeroGrad();
      } finally {
        model.dispose();
      }
    });

    tensorTest('state dict round trip through a file; eval is deterministic', () => {
      const dir = mkdtempSync(join(tmpdir(), 'segkit-harness-'));
      const a = c.build();
      const b = c.build();
      try {
        const file = join(dir, 'model.safetensors');
        torch.saveSafetensors(file, a.stateDict());
        const loaded = torch.loadSafetensors(file);
        const r = b.loadStateDict(loaded);
        torch.dispose(loaded);
        assert.deepEqual(r.missingKeys, []);
        a.eval();
        b.eval();
        const [h, w] = c.sizes[c.sizes.length - 1]!;
        torch.tidy(() => {
          const x = torch.randn([1, inC, h, w]);
          const ya = maskOf(torch.noGrad(() => a.forward(x)));
          const ya2 = maskOf(torch.noGrad(() => a.forward(x)));
          const yb = maskOf(torch.noGrad(() => b.forward(x)));
          assert.ok(torch.equal(ya, ya2), 'two eval passes agree exactly');
          assert.ok(torch.equal(ya, yb), 'the reloaded model gives the same output');
        });
      } finally {
        a.dispose();
        b.dispose();
        rmSync(dir, { recursive: true, force: true });
      }
    });

    tensorTest('optimizeForInference (BatchNorm folded, channels_last) gives the same output within 1e-4 relative (L2)', () => {
      const model = c.build();
      if (!(model instanceof SegmentationModel)) {
        model.dispose();
        return;
      }
      try {
        torch.manualSeed(1);
        randomizeBatchNorms(model);
        model.eval();
        const [h, w] = c.sizes[c.sizes.length - 1]!;
        const x = torch.randn([1, inC, h, w]);
        const beforeOut = model.predict(x);
        const bns = model.modules().filter((m) => m instanceof nn.BatchNorm2d).length;
        const r = model.optimizeForInference({ channelsLast: true });
        const afterOut = model.predict(x);
        const [before, after] = [maskOf(beforeOut), maskOf(afterOut)];
        // Relative error as the L2 norm of the difference over the output's, as foldBatchNorms
        // measures it; the largest single difference is held to 1e-3 of the largest output.
        const [err, worst] = torch.tidy(() => {
          const d = after.double().sub(before.double());
          return [
            Math.sqrt(d.square().sum().item() / before.double().square().sum().item()),
            d.abs().max().item() / before.abs().max().item(),
          ];
        });
        torch.dispose([x, ...tensorsOf(beforeOut), ...tensorsOf(afterOut)]);
        assert.ok(err <= 1e-4, `relative difference ${err} on a ${h}x${w} input the fold was not checked on`);
        assert.ok(worst <= 1e-3, `largest difference ${worst} of the largest output`);
        assert.equal(r.folded + r.kept, bns, 'every BatchNorm2d accounted for');
        assert.ok(bns === 0 || r.folded > 0, `${r.folded} of ${bns} BatchNorms folded`);
        assert.equal(r.channelsLast, true);
        assert.ok(r.relativeError <= 1e-4);
      } finally {
        model.dispose();
      }
    });
  });
}

/** Running statistics and affine parameters away from their initial values, so a fold has something to fold. */
export function randomizeBatchNorms(model: nn.Module): void {
  torch.tidy(() =>
    torch.noGrad(() => {
      for (const m of model.modules()) {
        if (!(m instanceof nn.BatchNorm2d)) continue;
        const n = m.numFeatures;
        m.runningMean?.copy_(torch.randn([n]).mul(0.1));
        m.runningVar?.copy_(torch.rand([n]).add(0.5));
        m.weight?.copy_(torch.rand([n]).add(0.5));
        m.bias?.copy_(torch.randn([n]).mul(0.1));
      }
    }),
  );
}
