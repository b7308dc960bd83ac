// Every registered encoder through the encoder contract (test/encoder-harness.ts): inChannels 1,
// 3, 4, depth 3, 4, 5 and output strides 32, 16, 8 where it dilates, each pair of settings
// together in at least one build. The biggest encoders (see FEWER) get every value once: their
// builds dominate the run time, and their families' smaller members already meet every pair.
import { torch, listEncoders } from '../src/index.js';
import { encoderHarness } from './encoder-harness.js';

// On 64x64 inputs intra-op threads gain nothing and, on a loaded machine, cost up to 10x in
// contention; this process runs only this file.
torch.setNumThreads(1);

const FEWER = new Set(['resnet101', 'resnext101_32x8d', 'efficientnet-b5', 'efficientnet-b6', 'efficientnet-b7', 'vgg16', 'vgg16_bn']);

for (const name of listEncoders()) encoderHarness(name, { coverage: FEWER.has(name) ? 'each' : 'pairs' });
