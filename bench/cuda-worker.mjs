// segkit side of cuda.mjs: one process per (model, round). On cuda:0: predict on 8x3x512x512
// (eval + inference mode), then training steps on 8x3x256x256 (forward, BCE-with-logits against
// a random 0/1 target, backward, SGD with momentum) in float32 and under autocast float16.
// Each timed call ends in .item(), which waits for the GPU, on both sides.
// Usage: node cuda-worker.mjs NAME WARMUP ITERS
import { fileURLToPath } from 'node:url';
import { torch, F, createModel } from '../dist/index.js';
import { SEGKIT_MODELS } from './models-worker.mjs';

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [name, warmup, iters] = [process.argv[2], ...process.argv.slice(3).map(Number)];
  const spec = SEGKIT_MODELS[name];
  if (!spec) throw new Error(`unknown model '${name}'; known: ${Object.keys(SEGKIT_MODELS).join(', ')}`);
  if (!torch.cuda.isAvailable()) throw new Error('cuda.mjs needs a CUDA build of libtorch and a GPU');
  torch.manualSeed(0);
  // The bench specs set no auxParams and no aux head: forward and predict return the mask.
  const model = /** @type {import('../dist/index.js').SegmentationModel} */ (createModel(spec[0], spec[1])).to({ device: 'cuda' });
  const params = model.parameters().reduce((n, p) => n + p.numel, 0);
  const time = (fn) => {
    for (let i = 0; i < warmup; i++) fn();
    const ms = [];
    for (let i = 0; i < iters; i++) {
      const t0 = process.hrtime.bigint();
      fn();
      ms.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
    return ms;
  };
  const x = torch.keep(torch.randn([8, 3, 512, 512], { device: 'cuda' }));
  const predictMs = time(() => torch.tidy(() => model.predict(x).sum().item()));
  x.dispose();
  const xt = torch.keep(torch.randn([8, 3, 256, 256], { device: 'cuda' }));
  const yt = torch.keep(torch.tidy(() => torch.rand([8, 1, 256, 256], { device: 'cuda' }).gt(0.5).float()));
  model.train();
  const opt = new torch.optim.SGD(model.parameters(), { lr: 1e-3, momentum: 0.9 });
  const step = (amp) => () =>
    torch.tidy(() => {
      opt.zeroGrad();
      const out = amp ? torch.autocast({ deviceType: 'cuda', dtype: 'float16' }, () => model.forward(xt)) : model.forward(xt);
      const l = F.binaryCrossEntropyWithLogits(out.float(), yt);
      l.backward();
      opt.step();
      return l.item();
    });
  const trainMs = time(step(false));
  const ampMs = time(step(true));
  console.log(JSON.stringify({ params, predictMs, trainMs, ampMs }));
  opt.dispose();
  model.dispose();
  torch.dispose([xt, yt]);
}
