// segkit against TensorFlow.js, the JavaScript users' default, on one model: smp's Unet with a
// resnet34 encoder (random weights, seed 0), BatchNorm folded into the convolutions
// (model.optimizeForInference()). The TF.js side is the same network written with tfjs-core ops
// (NHWC, fused conv2d + bias + ReLU as TF.js's converter emits for a loaded model) on segkit's own
// weights, on the pure-JS 'cpu' backend and on the 'wasm' backend (XNNPACK), from the npm packages'
// own files. The outputs are compared on the warm-up pass; timings are printed only if they match.
// TF.js disables the wasm backend's threads in Node (tensorflow/tfjs#3830); the bench tries the
// threaded SIMD build anyway and falls back to plain SIMD (or plain wasm), and says which ran.
// Usage: node bench/tfjs.mjs   (after `npm run build`)
//   SEGKIT_BENCH_SIZE (default 256: input 1x3xSxS), SEGKIT_BENCH_THREADS (default 2),
//   SEGKIT_BENCH_ITERS (default 3: timed forwards per backend, after one warm-up),
//   SEGKIT_BENCH_BACKENDS (default cpu,wasm: the TF.js backends to run; the cpu one takes minutes at 512)
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { version_cpu } from '@tensorflow/tfjs-backend-cpu';
import { getThreadsCount, setThreadsCount, setWasmPaths, version_wasm } from '@tensorflow/tfjs-backend-wasm';
import { torch, createModel } from '../dist/index.js';
import { nowNs, printMachine } from './common.mjs';

const SIZE = Number(process.env.SEGKIT_BENCH_SIZE ?? 256);
const THREADS = Number(process.env.SEGKIT_BENCH_THREADS ?? 2);
const ITERS = Number(process.env.SEGKIT_BENCH_ITERS ?? 3);
const BACKENDS = (process.env.SEGKIT_BENCH_BACKENDS ?? 'cpu,wasm').split(',').filter((b) => b === 'cpu' || b === 'wasm');
/** Largest |tfjs - segkit| allowed, relative to the largest |segkit| output. */
const TOLERANCE = 1e-3;
const WASM_DIR = fileURLToPath(new URL('../node_modules/@tensorflow/tfjs-backend-wasm/dist/', import.meta.url));

torch.setNumThreads(THREADS);
printMachine(`TensorFlow.js, unet resnet34, 1x3x${SIZE}x${SIZE}, ${THREADS} thread(s)`);
// No tensor checks, and no "install tfjs-node" banner: what a production TF.js app runs with.
tf.enableProdMode();

// ---- segkit: the model, its folded weights, the input, the reference output --------------------
torch.manualSeed(0);
const model = /** @type {import('../dist/index.js').SegmentationModel} */ (
  createModel('unet', { encoderName: 'resnet34', encoderWeights: null, classes: 1 })
);
model.eval();
const fold = model.optimizeForInference();
/** name -> { data (OIHW), shape, bias } of every convolution, BatchNorm folded in. */
const convs = new Map();
const state = model.stateDict();
for (const [key, t] of Object.entries(state)) {
  if (t.ndim !== 4 || !key.endsWith('.weight')) continue;
  const name = key.slice(0, -'.weight'.length);
  const bias = state[`${name}.bias`];
  if (!bias) throw new Error(`${name} has no bias after optimizeForInference (BatchNorm not folded?)`);
  convs.set(name, { data: t.contiguous().toArray(), shape: t.shape, bias: bias.contiguous().toArray() });
}
const x = torch.randn([1, 3, SIZE, SIZE]);
const xNchw = /** @type {Float32Array} */ (x.contiguous().toArray());
// NHWC for TF.js (an image's own layout; the conversion is not timed).
const xNhwc = new Float32Array(xNchw.length);
const plane = SIZE * SIZE;
for (let c = 0; c < 3; c++) for (let i = 0; i < plane; i++) xNhwc[i * 3 + c] = xNchw[c * plane + i];

function median(a) {
  const s = [...a].sort((p, q) => p - q);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/** One warm-up (its output returned), then the median ms of ITERS timed calls of `once`. */
async function time(once) {
  const first = await once();
  const ms = [];
  for (let i = 0; i < ITERS; i++) {
    const t0 = nowNs();
    await once();
    ms.push((nowNs() - t0) / 1e6);
  }
  return { output: first, ms: median(ms) };
}

const segkit = await time(() => {
  const y = /** @type {import('../dist/index.js').Tensor} */ (model.predict(x));
  const out = /** @type {Float32Array} */ (y.contiguous().toArray());
  y.dispose();
  return out;
});
const reference = segkit.output;

// ---- TF.js: the same network ----------------------------------------------------------------

/** segkit's convolutions as TF.js tensors on the current backend: HWIO filters, bias, padding. */
function tfWeights() {
  const w = new Map();
  for (const [name, c] of convs) {
    const [o, i, kh, kw] = c.shape;
    const filter = tf.tidy(() => tf.transpose(tf.tensor4d(c.data, [o, i, kh, kw]), [2, 3, 1, 0]));
    // PyTorch's padding here is always kernel // 2 (7x7: 3, 3x3: 1, 1x1: 0), symmetric.
    w.set(name, { filter, bias: tf.tensor1d(c.bias), pad: (kh - 1) / 2 });
  }
  return w;
}

/** The Unet forward pass in TF.js ops on weights `w`: NHWC in, NHWC logits out. */
function unet(w, input) {
  const conv = (t, name, { stride = 1, relu = true } = {}) => {
    const c = w.get(name);
    if (!c) throw new Error(`no convolution ${name}`);
    return tf.fused.conv2d({ x: t, filter: c.filter, strides: stride, pad: c.pad, bias: c.bias, activation: relu ? 'relu' : 'linear' });
  };
  // torchvision's BasicBlock: relu(conv2(relu(conv1(x))) + shortcut), BatchNorms folded away.
  const block = (t, name, stride) => {
    const y = conv(conv(t, `${name}.conv1`, { stride }), `${name}.conv2`, { relu: false });
    const shortcut = w.has(`${name}.downsample.0`) ? conv(t, `${name}.downsample.0`, { stride, relu: false }) : t;
    return tf.relu(tf.add(y, shortcut));
  };
  const f1 = conv(input, 'encoder.conv1', { stride: 2 });
  // MaxPool2d(3, stride 2, padding 1): TF.js pools over the in-bounds elements only, as PyTorch's
  // -inf padding does (and f1 is post-ReLU, so no pad value could win anyway).
  let t = tf.maxPool(f1, 3, 2, 1);
  const features = [input, f1];
  [3, 4, 6, 3].forEach((blocks, layer) => {
    for (let b = 0; b < blocks; b++) t = block(t, `encoder.layer${layer + 1}.${b}`, layer > 0 && b === 0 ? 2 : 1);
    features.push(t);
  });
  // smp's UnetDecoder: center is the identity (not a VGG encoder); each block upsamples (nearest)
  // to the next feature's size, concatenates it (the last block has none), two conv+ReLUs.
  const deep = features.slice(1).reverse();
  const sizes = features.map((f) => [f.shape[1], f.shape[2]]).reverse();
  let y = deep[0];
  for (let i = 0; i < 5; i++) {
    y = tf.image.resizeNearestNeighbor(y, /** @type {[number, number]} */ (sizes[i + 1]));
    if (deep[i + 1]) y = tf.concat([y, deep[i + 1]], 3);
    y = conv(conv(y, `decoder.blocks.${i}.conv1.0`), `decoder.blocks.${i}.conv2.0`);
  }
  return conv(y, 'segmentation_head.0', { relu: false });
}

/** Builds the weights on the current backend, times the forward pass, frees everything. */
async function timeTfjs() {
  const w = tfWeights();
  const input = tf.tensor4d(xNhwc, [1, SIZE, SIZE, 3]);
  const r = await time(async () => {
    const y = tf.tidy(() => unet(w, input));
    const out = /** @type {Float32Array} */ (await y.data());
    y.dispose();
    return out;
  });
  input.dispose();
  for (const c of w.values()) tf.dispose([c.filter, c.bias]);
  return r;
}

/** Max |a - b| (classes 1: NHWC and NCHW are the same order). */
function maxAbsDiff(a, b) {
  if (a.length !== b.length) return Number.POSITIVE_INFINITY;
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d;
}

/** Sets the wasm backend up: the threaded SIMD build if it loads in Node, else what TF.js picks. */
async function startWasm() {
  setWasmPaths(WASM_DIR);
  setThreadsCount(THREADS);
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', true);
  // A failed start warns (outside prod mode) with the error; keep its first line for our own note.
  const warn = console.warn;
  const logged = [];
  console.warn = (...a) => logged.push(a.map(String).join(' ').split('\n')[0]);
  tf.env().set('PROD', false);
  let ok = false;
  try {
    ok = await tf.setBackend('wasm');
  } finally {
    console.warn = warn;
    tf.env().set('PROD', true);
  }
  let note = '';
  if (!ok) {
    note = ` (threaded SIMD build failed in Node: ${(logged.at(-1) ?? 'unknown error').replace(/ Received .*/, '')})`;
    tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
    if (!(await tf.setBackend('wasm'))) throw new Error('the TF.js wasm backend did not start');
  }
  const threaded = tf.env().getBool('WASM_HAS_MULTITHREAD_SUPPORT');
  const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
  const build = threaded && simd ? 'threaded SIMD' : simd ? 'SIMD' : 'plain';
  return { label: `wasm (${build}, ${getThreadsCount()} thread(s))`, note: `wasm build: ${build}, ${getThreadsCount()} thread(s)${note}` };
}

const rows = [['segkit (libtorch, BatchNorm folded)', segkit.ms, null]];
let worst = 0;
const notes = [];
for (const backend of BACKENDS) {
  let label = 'cpu (pure JS, 1 thread)';
  if (backend === 'wasm') {
    const s = await startWasm();
    label = s.label;
    notes.push(s.note);
  } else if (!(await tf.setBackend('cpu'))) throw new Error('the TF.js cpu backend did not start');
  const r = await timeTfjs();
  const diff = maxAbsDiff(r.output, reference);
  worst = Math.max(worst, diff);
  notes.push(`${backend}: max |tfjs - segkit| ${diff.toExponential(2)}`);
  rows.push([label, r.ms, diff]);
}

const scale = reference.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
const b = torch.buildInfo();
console.log(
  `tfjs-core ${tf.version_core} (backend-cpu ${version_cpu}, backend-wasm ${version_wasm}), segkit libtorch ${b.libtorch}, ` +
    `threads ${THREADS}, input 1x3x${SIZE}x${SIZE}, ${fold.folded} BatchNorms folded, median of ${ITERS} after 1 warm-up, ` +
    `max |tfjs - segkit| ${worst.toExponential(2)} (max |segkit| ${scale.toExponential(2)})`,
);
for (const n of notes) console.log(`  ${n}`);
if (!(worst <= TOLERANCE * scale)) {
  console.error(
    `TF.js's output differs from segkit's by ${worst.toExponential(2)}, more than ${TOLERANCE} x ${scale.toExponential(2)}: no timings`,
  );
  process.exitCode = 1;
} else {
  console.log('');
  console.log('| backend | ms per forward | vs segkit |');
  console.log('| --- | ---: | ---: |');
  for (const [label, ms] of rows) console.log(`| ${label} | ${ms.toFixed(1)} | ${(ms / segkit.ms).toFixed(2)}x |`);
}
x.dispose();
