// Every registered encoder once under smp's Unet, through the shared harness: shapes at an
// even and an odd size, a backward reaching every parameter, a state-dict round trip, eval
// determinism, no leaked tensors. (Each architecture runs with its paper's encoder elsewhere.)
import { createModel, listEncoders } from '../src/index.js';
import { modelHarness } from './model-harness.js';

for (const encoderName of listEncoders()) {
  modelHarness({
    name: `unet / ${encoderName}`,
    build: () => createModel('unet', { encoderName, classes: 2 }),
    classes: 2,
    sizes: [[64, 64], [70, 45]],
    batch: 2,
    // smp registers modules it never calls: the last decoder block's first attention, and
    // EfficientNet's classifier-side _conv_head/_bn1 (kept so smp checkpoints load).
    noGradOk: (n) => (n.includes('attention1') && n.startsWith('decoder.blocks.4')) || /^encoder\._(conv_head|bn1)\./.test(n),
  });
}
