// segkit side of models.mjs: one process per (model, round). Builds one architecture, times
// model.predict at 1x3x512x512 (eval + inference mode), then training steps at 4x3x256x256
// (forward, BCE-with-logits against a random 0/1 target, backward, SGD with momentum), and
// prints one JSON line: parameter count, times (ms), peak RSS after building the model, after the
// predict phase and after the training phase (maxRSS only grows, so each is that phase's own
// peak), and minor page faults per timed predict and per timed step.
// Usage: node models-worker.mjs NAME THREADS WARMUP PREDICT_ITERS TRAIN_ITERS
import { fileURLToPath } from 'node:url';
import { torch, F, createModel } from '../dist/index.js';

/** segkit's side of each comparison: createModel's arguments. */
export const SEGKIT_MODELS = {
  unet: ['unet', { encoderName: 'resnet34', classes: 1 }],
  fcn: ['fcn', { encoderName: 'resnet50', classes: 1 }],
  deeplabv3: ['deeplabv3', { encoderName: 'resnet50', layout: 'torchvision', classes: 1 }],
  deeplabv3plus: ['deeplabv3plus', { encoderName: 'resnet34', classes: 1 }],
  pspnet: ['pspnet', { encoderName: 'resnet34', classes: 1 }],
  fpn: ['fpn', { encoderName: 'resnet34', classes: 1 }],
  segnet: ['segnet', { classes: 1 }],
  fcn8s: ['fcn8s', { classes: 1 }],
  'unet-original': ['unet-original', { classes: 1 }],
  deeplabv1: ['deeplabv1', { classes: 1 }],
  linknet: ['linknet', { encoderName: 'resnet34', classes: 1 }],
  unetplusplus: ['unetplusplus', { encoderName: 'resnet34', classes: 1 }],
  manet: ['manet', { encoderName: 'resnet34', classes: 1 }],
  pan: ['pan', { encoderName: 'resnet34', classes: 1 }],
  refinenet: ['refinenet', { encoderName: 'resnet34', classes: 1 }],
  deeplabv2: ['deeplabv2', { classes: 1 }],
  fcn16s: ['fcn16s', { classes: 1 }],
  fcn32s: ['fcn32s', { classes: 1 }],
};

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [name, threads, warmup, predictIters, trainIters] = [process.argv[2], ...process.argv.slice(3).map(Number)];
  const spec = SEGKIT_MODELS[name];
  if (!spec) throw new Error(`unknown model '${name}'; known: ${Object.keys(SEGKIT_MODELS).join(', ')}`);
  torch.setNumThreads(threads);
  // Freed blocks up to 256 MiB stay in the process (glibc mmap/trim thresholds, as the Python
  // side's GLIBC_TUNABLES), so page faults do not swamp the comparison.
  torch.setAllocatorCache(256 * 2 ** 20);
  torch.manualSeed(0);
  // The bench specs set no auxParams and no aux head: forward and predict return the mask.
  const model = /** @type {import('../dist/index.js').SegmentationModel} */ (createModel(spec[0], spec[1]));
  const params = model.parameters().reduce((n, p) => n + p.numel, 0);
  const rss = () => process.resourceUsage().maxRSS / 1024;

  const buildRssMb = rss();
  const faults = [];
  function time(fn, n) {
    for (let i = 0; i < warmup; i++) fn();
    const ms = [];
    const f0 = process.resourceUsage().minorPageFault;
    for (let i = 0; i < n; i++) {
      const t0 = process.hrtime.bigint();
      fn();
      ms.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
    faults.push((process.resourceUsage().minorPageFault - f0) / Math.max(n, 1));
    return ms;
  }

  const x = torch.randn([1, 3, 512, 512]);
  const predictMs = time(
    () =>
      torch.tidy(() => {
        model.predict(x);
      }),
    predictIters,
  );
  const predictRssMb = rss();
  x.dispose();

  const xt = torch.randn([4, 3, 256, 256]);
  const yt = torch.tidy(() => torch.rand([4, 1, 256, 256]).gt(0.5).float());
  model.train();
  const opt = new torch.optim.SGD(model.parameters(), { lr: 1e-3, momentum: 0.9 });
  let loss = NaN;
  const trainMs = time(
    () =>
      torch.tidy(() => {
        opt.zeroGrad();
        const l = F.binaryCrossEntropyWithLogits(model.forward(xt), yt);
        l.backward();
        opt.step();
        loss = l.item();
      }),
    trainIters,
  );
  const trainRssMb = rss();
  console.log(JSON.stringify({ params, buildRssMb, predictMs, predictRssMb, trainMs, trainRssMb, faults, loss }));
  opt.dispose();
  model.dispose();
  torch.dispose([xt, yt]);
}
