// Parity with segmentation_models_pytorch itself, not with a transcription of it: the fixtures in
// test/fixtures/smp were made by scripts/fixtures/make_smp_fixtures.py from smp's own source
// (0.5.1.dev0, commit 5006616, checked there against the shared U-Net fixture), every state-dict
// entry filled by the rule of test/fixtures/smp-unet-resnet34/README.md. For each case segkit's
// createModel with the same options must give smp's state-dict keys (order, shapes, dtypes), its
// parameter count and, filled by the same rule, its eval-mode output.
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe } from 'node:test';
import { torch, createModel, type Tensor, type nn } from '../src/index.js';
import { FIXTURES, maxAbsDiff, tensorTest } from './helpers.js';
import { fillByRule, ruleUniforms } from './fill-rule.js';

const DIR = join(FIXTURES, 'smp');

interface Fixture {
  smp_class: string;
  smp_options: Record<string, unknown>;
  segkit_arch: string;
  segkit_options: Record<string, unknown>;
  input_shape: number[];
  params: number;
  keys_in_state_dict_order: [string, number[], string][];
}

const cases = readdirSync(DIR)
  .filter((f) => f.endsWith('.keys.json'))
  .map((f) => f.slice(0, -'.keys.json'.length))
  .sort();
const fixtures = new Map<string, Fixture>(
  cases.map((name) => [name, JSON.parse(readFileSync(join(DIR, `${name}.keys.json`), 'utf8')) as Fixture]),
);

/** float32 outputs of magnitude M carry rounding of about M * 1e-6; smp's own float32 run differs from float64 by as much. */
const tolerance = (ref: Tensor) =>
  1e-5 *
  Math.max(
    1,
    torch.tidy(() => ref.abs().max().item()),
  );

function build(fx: Fixture): nn.Module & { numParameters(): number; predict(x: Tensor): any } {
  return createModel(fx.segkit_arch, structuredClone(fx.segkit_options)) as any;
}

describe('smp parity: segmentation_models_pytorch 0.5.1.dev0 (commit 5006616) source', () => {
  tensorTest('the fixtures cover every smp architecture and every encoder family segkit has', () => {
    const archs = new Set([...fixtures.values()].map((f) => f.segkit_arch));
    for (const a of ['unet', 'unetplusplus', 'manet', 'linknet', 'fpn', 'pspnet', 'pan', 'deeplabv3', 'deeplabv3plus']) {
      assert.ok(archs.has(a), `no fixture for ${a}`);
    }
    const encoders = new Set([...fixtures.values()].map((f) => String(f.segkit_options.encoderName)));
    for (const e of ['resnet18', 'resnet34', 'resnet50', 'vgg16_bn', 'mobilenet_v2', 'efficientnet-b0', 'xception']) {
      assert.ok(encoders.has(e), `no fixture for encoder ${e}`);
    }
  });

  for (const [name, fx] of fixtures) {
    const call = `smp.${fx.smp_class}(${JSON.stringify(fx.smp_options)}) on [${fx.input_shape}]`;
    describe(`${name}: ${call}`, () => {
      tensorTest("state-dict keys, order, shapes and dtypes, and the parameter count, equal smp's", () => {
        const model = build(fx);
        try {
          const ours = Object.entries(model.stateDict()).map(([k, t]) => [k, [...t.shape], t.dtype]);
          assert.deepEqual(ours, fx.keys_in_state_dict_order);
          assert.equal(model.numParameters(), fx.params);
        } finally {
          model.dispose();
        }
      });

      tensorTest("filled by the rule, the eval output equals smp's (float64 reference)", () => {
        const model = build(fx);
        const io = torch.loadSafetensors(join(DIR, `${name}.io.safetensors`));
        try {
          fillByRule(model);
          torch.tidy(() => {
            const n = fx.input_shape.reduce((a, b) => a * b, 1);
            const rule = torch.tensor(
              Float32Array.from(ruleUniforms('input', n), (u) => 2 * u - 1),
              { shape: fx.input_shape },
            );
            assert.ok(torch.equal(rule, io.input!), 'the input follows the rule');
            const y = model.predict(io.input!);
            const mask = (fx.smp_options.aux_params ? y.mask : y) as Tensor;
            const tol = tolerance(io.output_f64!);
            const err = maxAbsDiff(mask, io.output_f64!);
            assert.ok(err <= tol, `max |segkit - smp float64| = ${err} > ${tol}`);
            assert.ok(maxAbsDiff(mask, io.output!) <= tol, "and smp's float32 output");
            if (fx.smp_options.aux_params) {
              const lerr = maxAbsDiff(y.label as Tensor, io.label_f64!);
              assert.ok(lerr <= tolerance(io.label_f64!), `classification head: max |segkit - smp float64| = ${lerr}`);
            }
          });
        } finally {
          model.dispose();
          torch.dispose(io);
        }
      });
    });
  }
});
