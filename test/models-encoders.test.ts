// Every registered encoder once under smp's Unet, through the shared harness: shapes at an
// even and an odd size, a backward reaching every parameter, a state-dict round trip, eval
// determinism, no leaked tensors. (Each architecture runs with its paper's encoder elsewhere.)
// ResNeXt against torchvision (fixtures: scripts/fixtures/make_encoder_fixtures.py): keys and
// parameter counts of both variants, resnext50_32x4d's features and dilated features by value.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe } from 'node:test';
import { torch, createModel, createEncoder, listEncoders, type Tensor } from '../src/index.js';
import type { SegmentationModel } from '../src/models/base.js';
import { modelHarness } from './model-harness.js';
import { FIXTURES, assertClose, tensorTest } from './helpers.js';
import { fillByRule } from './fill-rule.js';

// 86M parameters: the full harness (two models, a backward, a 350 MB file round trip) would
// dominate the suite's time, so it gets the single build below.
const BUILT_ONCE = new Set(['resnext101_32x8d']);

for (const encoderName of listEncoders().filter((n) => !BUILT_ONCE.has(n))) {
  modelHarness({
    name: `unet / ${encoderName}`,
    build: () => createModel('unet', { encoderName, classes: 2 }),
    classes: 2,
    sizes: [
      [64, 64],
      [70, 45],
    ],
    batch: 2,
    // smp registers modules it never calls: the last decoder block's first attention, and
    // EfficientNet's classifier-side _conv_head/_bn1 (kept so smp checkpoints load).
    noGradOk: (n) => (n.includes('attention1') && n.startsWith('decoder.blocks.4')) || /^encoder\._(conv_head|bn1)\./.test(n),
  });
}

const DIR = join(FIXTURES, 'encoders');

interface TorchvisionKeys {
  params: number;
  params_without_fc: number;
  keys_in_state_dict_order: [string, number[]][];
}
const TORCHVISION = JSON.parse(readFileSync(join(DIR, 'resnext.keys.json'), 'utf8')) as Record<string, TorchvisionKeys>;

/** name -> shape of a state dict, `prefix` stripped from the names that carry it (others dropped). */
function keyShapes(dict: Record<string, Tensor>, prefix = ''): [string, number[]][] {
  return Object.entries(dict)
    .filter(([k]) => k.startsWith(prefix))
    .map(([k, t]) => [k.slice(prefix.length), [...t.shape]]);
}

describe('resnext against torchvision', () => {
  tensorTest("resnext50_32x4d: torchvision's keys in its order and shapes; 22,979,904 parameters (25,028,904 with fc)", () => {
    const ref = TORCHVISION.resnext50_32x4d!;
    const e = createEncoder('resnext50_32x4d');
    try {
      assert.deepEqual(keyShapes(e.stateDict()), ref.keys_in_state_dict_order);
      assert.equal(e.numParameters(), ref.params_without_fc);
      assert.equal(ref.params - ref.params_without_fc, 2048 * 1000 + 1000, "torchvision's fc is 2048 -> 1000");
      assert.deepEqual(e.outChannels, [3, 64, 256, 512, 1024, 2048]);
    } finally {
      e.dispose();
    }
  });

  tensorTest("unet / resnext101_32x8d, built once: torchvision's encoder keys, 86,742,336 parameters, a 32x32 forward", () => {
    const ref = TORCHVISION.resnext101_32x8d!;
    const model = createModel('unet', { encoderName: 'resnext101_32x8d', classes: 2 }) as SegmentationModel;
    try {
      assert.deepEqual(keyShapes(model.stateDict(), 'encoder.'), ref.keys_in_state_dict_order);
      assert.equal(model.encoder.numParameters(), ref.params_without_fc);
      model.eval();
      torch.tidy(() => {
        const y = torch.noGrad(() => model.forward(torch.randn([1, 3, 32, 32])));
        assert.deepEqual([...y.shape], [1, 2, 32, 32]);
        assert.ok(y.isfinite().all().item() === 1, 'finite output');
      });
    } finally {
      model.dispose();
    }
  });

  tensorTest(
    "resnext50_32x4d filled by the rule: smp's five features and the output-stride 16 and 8 ones equal torchvision's within 1e-5",
    () => {
      const io = torch.loadSafetensors(join(DIR, 'resnext50_32x4d.io.safetensors'));
      const e = createEncoder('resnext50_32x4d');
      const dilated = [16, 8].map((outputStride) => createEncoder('resnext50_32x4d', { outputStride: outputStride as 16 | 8 }));
      try {
        fillByRule(e);
        for (const d of dilated) d.loadStateDict(e.stateDict());
        for (const m of [e, ...dilated]) m.eval();
        torch.tidy(() =>
          torch.noGrad(() => {
            const features = e.forward(io.input!);
            assert.equal(features[0], io.input, 'the first feature is the input');
            for (let i = 1; i <= 5; i++) assertClose(features[i]!, io[`feature${i}`]!, 1e-5, 0, `feature ${i}`);
            assertClose(dilated[0]!.forward(io.input!)[5]!, io.os16_feature5!, 1e-5, 0, 'output stride 16');
            assertClose(dilated[1]!.forward(io.input!)[5]!, io.os8_feature5!, 1e-5, 0, 'output stride 8');
          }),
        );
      } finally {
        torch.dispose(io);
        e.dispose();
        for (const d of dilated) d.dispose();
      }
    },
  );
});
