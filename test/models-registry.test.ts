// The registry: listModels holds the survey's architectures, createModel builds each, and a
// forward or predict at top level (outside any tidy) leaves only its output alive.
import assert from 'node:assert/strict';
import { torch, createModel, listModels, listEncoders, type Tensor } from '../src/index.js';
import { assertThrows, tensorTest } from './helpers.js';

const LIGHT: Record<string, Record<string, unknown>> = {
  fcn32s: { fcChannels: 64 },
  fcn16s: { fcChannels: 64 },
  fcn8s: { fcChannels: 64 },
  fcn: { encoderName: 'resnet18' },
  unet: { encoderName: 'resnet18' },
  unetplusplus: { encoderName: 'resnet18' },
  deeplabv2: { encoderName: 'resnet18' },
  deeplabv3: { encoderName: 'resnet18' },
  deeplabv3plus: { encoderName: 'resnet18' },
  refinenet: { encoderName: 'resnet18' },
  pspnet: { encoderName: 'resnet18' },
  fpn: { encoderName: 'resnet18' },
  linknet: { encoderName: 'resnet18' },
  pan: { encoderName: 'resnet18' },
  manet: { encoderName: 'resnet18' },
};

const SURVEY = [
  'fcn32s',
  'fcn16s',
  'fcn8s',
  'fcn',
  'segnet',
  'unet',
  'unet-original',
  'unetplusplus',
  'deeplabv1',
  'deeplabv2',
  'deeplabv3',
  'deeplabv3plus',
  'refinenet',
  'pspnet',
  'fpn',
  'linknet',
  'pan',
  'manet',
];

tensorTest('listModels and listEncoders name the survey and the encoder registry', () => {
  assert.deepEqual([...listModels()].sort(), [...SURVEY].sort());
  const encoders = listEncoders();
  for (const e of [
    'vgg16',
    'vgg16_bn',
    'resnet18',
    'resnet34',
    'resnet50',
    'resnet101',
    'mobilenet_v2',
    'xception',
    ...Array.from({ length: 8 }, (_, i) => `efficientnet-b${i}`),
  ])
    assert.ok(encoders.includes(e), `encoder ${e} registered`);
  assertThrows(() => createModel('unet3d'), TypeError, /createModel: arch must be one of .*'deeplabv3plus'.*, got 'unet3d'/);
  assertThrows(
    () => createModel('unet', { encoderName: 'resnet9' }),
    TypeError,
    /Unet: encoderName must be one of .*'resnet34'.*, got 'resnet9'/,
  );
});

for (const arch of SURVEY) {
  tensorTest(`${arch}: forward and predict outside tidy leave only their outputs`, () => {
    const model = createModel(arch, { classes: 2, ...LIGHT[arch] });
    const x = torch.randn([2, 3, 64, 64]); // batch 2: image-pooling BatchNorm needs more than one value in training
    const before = torch.liveTensors();
    const out = model.forward(x);
    const mask = (out && typeof out === 'object' && 'mask' in out ? out.mask : out) as Tensor;
    assert.deepEqual([...mask.shape], [2, 2, 64, 64]);
    torch.dispose(out);
    const pred = model.predict(x);
    assert.deepEqual([...pred.shape], [2, 2, 64, 64]);
    pred.dispose();
    assert.equal(torch.liveTensors(), before, `${arch} leaked intermediates`);
    x.dispose();
    model.dispose();
  });
}
