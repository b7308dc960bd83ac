// The demo job: trains a small fully-convolutional net with plain SGD + momentum on the bundled
// Catanduanes tiles and reports the training loss and validation IoU/Dice per epoch. The net is
// written on the engine alone (tensors, F, autograd) and is small enough to train in seconds on
// two cores; the model zoo's networks need far longer to learn anything.
import { torch, F, type Tensor } from '../index.js';
import { loadDemoTiles, defaultDemoDir } from '../data/demo-tiles.js';

export interface DemoOptions {
  dir?: string;
  epochs?: number;
  lr?: number;
  batchSize?: number;
  seed?: number;
  log?: (line: string) => void;
}

export interface DemoResult {
  losses: number[];
  valIoU: number;
  valDice: number;
  seconds: number;
}

type Params = Record<string, Tensor>;

/** A seeded JS generator for augmentation choices, so a demo run is repeatable. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** He-normal conv weights (ReLU nets) and zero biases, from libtorch's seeded generator. */
function initParams(): Params {
  const conv = (cout: number, cin: number, k: number): [Tensor, Tensor] => [
    torch
      .randn([cout, cin, k, k])
      .mul_(Math.sqrt(2 / (cin * k * k)))
      .requiresGrad_(),
    torch.zeros([cout], { requiresGrad: true }),
  ];
  const p: Params = {};
  for (const [name, cout, cin, k] of [
    ['c1', 16, 3, 3],
    ['c2', 32, 16, 3],
    ['c3', 32, 32, 3],
    ['d1', 16, 64, 3],
    ['out', 1, 16, 1],
  ] as const) {
    [p[`${name}.weight`], p[`${name}.bias`]] = conv(cout, cin, k);
  }
  return p;
}

/** A small encoder-decoder: two poolings, a bilinear upsampling and a skip at 1/2 resolution. */
function forward(p: Params, x: Tensor): Tensor {
  const conv = (name: string, t: Tensor, padding = 1) => F.conv2d(t, p[`${name}.weight`]!, { bias: p[`${name}.bias`], padding });
  const e1 = conv('c1', x).relu();
  const e2 = conv('c2', F.maxPool2d(e1, 2)).relu();
  const e3 = conv('c3', F.maxPool2d(e2, 2)).relu();
  const up = F.interpolate(e3, { scaleFactor: 2, mode: 'bilinear', alignCorners: false });
  const d1 = conv('d1', torch.cat([up, e2], 1)).relu();
  const logits = conv('out', d1, 0);
  return F.interpolate(logits, { scaleFactor: 2, mode: 'bilinear', alignCorners: false });
}

function iouDice(logits: Tensor, masks: Tensor): { iou: number; dice: number } {
  return torch.tidy(() => {
    const pred = logits.gt(0).float();
    const inter = pred.mul(masks).sum().item();
    const total = pred.sum().item() + masks.sum().item();
    return { iou: total - inter > 0 ? inter / (total - inter) : 1, dice: total > 0 ? (2 * inter) / total : 1 };
  });
}

export async function runDemo(options: DemoOptions = {}): Promise<DemoResult> {
  const log = options.log ?? ((l: string) => console.log(l));
  const epochs = options.epochs ?? 30;
  const lr = options.lr ?? 0.05;
  const batchSize = options.batchSize ?? 6;
  const dir = options.dir ?? defaultDemoDir();
  const seed = options.seed ?? 0;
  torch.manualSeed(seed);
  const random = mulberry32(seed);
  const started = Date.now();
  const [train, val] = await Promise.all([loadDemoTiles(dir, 'train'), loadDemoTiles(dir, 'val')]);
  const { height: h, width: w } = train.shape;
  log(`demo: ${train.shape.n} training and ${val.shape.n} validation tiles (${w}x${h}) from ${dir}`);
  log(
    `demo: libtorch ${torch.buildInfo().libtorch}, ${torch.getNumThreads()} threads; ${epochs} epochs, SGD lr ${lr} momentum 0.9, batch ${batchSize}`,
  );

  // Standardise with the training set's channel statistics, as any CNN expects.
  const normalise = (t: Tensor, mean: Tensor, std: Tensor) => torch.tidy(() => t.sub(mean).div(std));
  const raw = torch.tensor(train.images, { shape: [train.shape.n, 3, h, w] });
  const mean = raw.mean({ dim: [0, 2, 3], keepdim: true });
  const std = raw.std({ dim: [0, 2, 3], keepdim: true });
  const xTrain = normalise(raw, mean, std);
  raw.dispose();
  const yTrain = torch.tensor(train.masks, { shape: [train.shape.n, 1, h, w] });
  const rawVal = torch.tensor(val.images, { shape: [val.shape.n, 3, h, w] });
  const xVal = normalise(rawVal, mean, std);
  rawVal.dispose();
  const yVal = torch.tensor(val.masks, { shape: [val.shape.n, 1, h, w] });
  const params = initParams();
  const momentum: Params = Object.fromEntries(Object.entries(params).map(([k, v]) => [k, torch.zerosLike(v)]));
  const losses: number[] = [];
  let last = { iou: 0, dice: 0 };
  try {
    for (let epoch = 1; epoch <= epochs; epoch++) {
      const order = torch.randperm(train.shape.n);
      const idx = Array.from(order.toArray() as BigInt64Array, Number);
      order.dispose();
      let sum = 0;
      for (let b = 0; b < idx.length; b += batchSize) {
        sum += torch.tidy(() => {
          const sel = torch.tensor(BigInt64Array.from(idx.slice(b, b + batchSize), BigInt));
          let x = xTrain.indexSelect(0, sel);
          let y = yTrain.indexSelect(0, sel);
          // Aerial tiles have no "up": random flips and 90-degree turns are free augmentation.
          const k = Math.floor(random() * 4);
          x = torch.rot90(x, k, [2, 3]);
          y = torch.rot90(y, k, [2, 3]);
          if (random() < 0.5) [x, y] = [x.flip(3), y.flip(3)];
          const loss = F.binaryCrossEntropyWithLogits(forward(params, x), y);
          loss.backward();
          torch.noGrad(() => {
            for (const [name, p] of Object.entries(params)) {
              const g = p.grad!;
              momentum[name]!.mul_(0.9).add_(g);
              p.sub_(momentum[name]!, { alpha: lr });
              p.grad = null;
            }
          });
          return loss.item() * sel.shape[0]!;
        });
      }
      losses.push(sum / train.shape.n);
      last = torch.tidy(() =>
        iouDice(
          torch.noGrad(() => forward(params, xVal)),
          yVal,
        ),
      );
      log(
        `epoch ${String(epoch).padStart(3)}  train loss ${losses[losses.length - 1]!.toFixed(4)}  val IoU ${last.iou.toFixed(3)}  Dice ${last.dice.toFixed(3)}`,
      );
    }
  } finally {
    torch.dispose([xTrain, yTrain, xVal, yVal, mean, std, params, momentum]);
  }
  const seconds = (Date.now() - started) / 1000;
  log(
    `demo: loss ${losses[0]!.toFixed(4)} -> ${losses[losses.length - 1]!.toFixed(4)} in ${seconds.toFixed(1)} s; validation IoU ${last.iou.toFixed(3)}, Dice ${last.dice.toFixed(3)}`,
  );
  return { losses, valIoU: last.iou, valDice: last.dice, seconds };
}
