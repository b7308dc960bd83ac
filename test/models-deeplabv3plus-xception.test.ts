// DeepLab v3+ on its paper's encoder family: Xception run atrous at output stride 16.
import { createModel } from '../src/index.js';
import { modelHarness } from './model-harness.js';

modelHarness({
  name: 'deeplabv3plus / xception (output stride 16)',
  build: () => createModel('deeplabv3plus', { encoderName: 'xception', classes: 2 }),
  classes: 2,
  sizes: [
    [64, 64],
    [70, 45],
  ],
});
