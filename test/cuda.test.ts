// The CUDA path. On a CPU-only libtorch (CI) it checks that asking for a GPU fails with a clear
// error before anything is allocated; on a CUDA build with a device it checks ops, autograd,
// modules, optimizers, autocast, seeding, checkpoints and a whole model against the CPU.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe } from 'node:test';
import { torch, nn, F, type Tensor } from '../src/index.js';
import '../src/models/encoders/resnet.js';
import '../src/models/decoders/unet/model.js';
import { createModel } from '../src/models/registry.js';
import { saveCheckpoint, loadCheckpoint } from '../src/train/checkpoint.js';
import { assertClose, assertThrows, tensorTest } from './helpers.js';

const CUDA = torch.cuda.isAvailable() && torch.cuda.deviceCount() > 0;

describe('without CUDA', { skip: CUDA ? 'this libtorch has CUDA' : false }, () => {
  tensorTest('to(cuda), factories and modules refuse with a message naming the build', () => {
    assert.equal(torch.buildInfo().cuda, false);
    assert.equal(torch.cuda.deviceCount(), 0);
    torch.tidy(() => {
      const x = torch.ones([2]);
      assertThrows(() => x.to({ device: 'cuda' }), Error, /device 'cuda' requested/, /no CUDA/);
      assertThrows(() => x.cuda(), Error, /device 'cuda:0' requested/);
      assertThrows(() => torch.zeros([2], { device: 'cuda:0' }), Error, /zeros: device 'cuda:0'/);
    });
    assertThrows(
      () => torch.cuda.getRngState(),
      RangeError,
      /cuda\.getRngState: device must be a CUDA device index in \[0, 0\), got 0/,
      /no CUDA device/,
    );
    const lin = new nn.Linear(2, 2);
    try {
      assertThrows(() => lin.to({ device: 'cuda' }), Error, /no CUDA/);
      assert.equal(lin.weight.device, 'cpu', 'a refused move leaves the module where it was');
    } finally {
      lin.dispose();
    }
  });
});

describe('torch.backends', () => {
  tensorTest("reads PyTorch's defaults, sets and restores, and refuses non-booleans", () => {
    const b = torch.backends;
    assert.equal(b.cudnn.allowTF32, true, 'cudnn.allow_tf32 defaults to True');
    assert.equal(b.cuda.matmul.allowTF32, false, 'cuda.matmul.allow_tf32 defaults to False');
    assert.equal(b.cudnn.benchmark, false);
    assert.equal(b.cudnn.deterministic, false);
    b.cudnn.benchmark = true;
    assert.equal(b.cudnn.benchmark, true);
    b.cudnn.benchmark = false;
    assert.equal(b.cudnn.benchmark, false);
    assertThrows(
      () => {
        (b.cudnn as { allowTF32: unknown }).allowTF32 = 1;
      },
      TypeError,
      /backends\.cudnn: allowTF32 must be true or false, got 1/,
    );
    assert.equal(b.cudnn.allowTF32, true);
  });
});

/** Runs fn with float32-exact convolutions and matmuls (PyTorch's CUDA default uses TF32 in cuDNN). */
function exactFloat32<T>(fn: () => T): T {
  const { cudnn, cuda } = torch.backends;
  const prev = [cudnn.allowTF32, cuda.matmul.allowTF32];
  cudnn.allowTF32 = false;
  cuda.matmul.allowTF32 = false;
  try {
    return fn();
  } finally {
    [cudnn.allowTF32, cuda.matmul.allowTF32] = prev as [boolean, boolean];
  }
}

describe('CUDA', { skip: CUDA ? false : 'no CUDA device in this libtorch build' }, () => {
  tensorTest('round trip, device names and ops agree with the CPU', () => {
    torch.tidy(() => {
      const a = torch.randn([64, 33]);
      const g = a.cuda();
      assert.equal(g.device, 'cuda:0');
      assert.equal(a.device, 'cpu');
      assert.deepEqual(Array.from(g.toArray() as Float32Array), Array.from(a.toArray() as Float32Array));
      const b = torch.randn([33, 17]);
      assertClose(g.matmul(b.cuda()).relu().sum({ dim: 1 }).cpu(), a.matmul(b).relu().sum({ dim: 1 }), 1e-4, 1e-4, 'matmul');
      assert.equal(torch.zeros([3], { device: 'cuda' }).device, 'cuda:0');
      assertClose(g.mean().cpu(), a.mean(), 1e-6, 1e-5, 'mean');
      const x = torch.randn([2, 3, 17, 23]);
      const w = torch.randn([5, 3, 3, 3]);
      assertClose(F.conv2d(x.cuda(), w.cuda(), { padding: 1 }).cpu(), F.conv2d(x, w, { padding: 1 }), 1e-3, 1e-3, 'conv2d');
      assertClose(
        F.interpolate(x.cuda(), { size: [40, 50], mode: 'bilinear', alignCorners: false }).cpu(),
        F.interpolate(x, { size: [40, 50], mode: 'bilinear', alignCorners: false }),
        1e-5,
        1e-5,
        'interpolate',
      );
    });
  });

  tensorTest('autograd: gradients on the GPU equal the CPU ones', () => {
    torch.tidy(() => {
      const x0 = torch.randn([4, 8]);
      const cpu = x0.clone().requiresGrad_();
      const gpu = x0.cuda().requiresGrad_();
      cpu.sigmoid().mul(cpu).sum().backward();
      gpu.sigmoid().mul(gpu).sum().backward();
      assert.equal(gpu.grad!.device, 'cuda:0');
      assertClose(gpu.grad!.cpu(), cpu.grad!, 1e-6, 1e-5, 'grad');
    });
  });

  tensorTest('manualSeed makes CUDA sampling repeatable', () => {
    torch.tidy(() => {
      torch.manualSeed(7);
      const a = torch.rand([1000], { device: 'cuda' }).cpu();
      torch.manualSeed(7);
      const b = torch.rand([1000], { device: 'cuda' }).cpu();
      assert.equal(a.sub(b).abs().max().item(), 0);
    });
  });

  tensorTest('cuda.getRngState/setRngState and checkpoints bring the CUDA generator back', () => {
    const dir = mkdtempSync(join(tmpdir(), 'segkit-cuda-rng-'));
    const lin = new nn.Linear(2, 2);
    try {
      torch.tidy(() => {
        torch.manualSeed(3);
        const s = torch.cuda.getRngState();
        const a = torch.rand([100], { device: 'cuda' }).cpu();
        torch.cuda.setRngState(s);
        const b = torch.rand([100], { device: 'cuda' }).cpu();
        assert.equal(a.sub(b).abs().max().item(), 0);
        const file = join(dir, 'rng.ckpt');
        saveCheckpoint(file, { model: lin });
        const next = torch.rand([100], { device: 'cuda' }).cpu();
        torch.rand([1000], { device: 'cuda' });
        loadCheckpoint(file, { model: lin });
        assert.equal(torch.rand([100], { device: 'cuda' }).cpu().sub(next).abs().max().item(), 0, 'resumed CUDA draws');
      });
      assertThrows(() => torch.cuda.getRngState(torch.cuda.deviceCount()), RangeError, /device must be a CUDA device index/);
    } finally {
      lin.dispose();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  tensorTest('a U-Net on the GPU matches the CPU, trains with Adam, and its checkpoint loads on the CPU', () => {
    const dir = mkdtempSync(join(tmpdir(), 'segkit-cuda-'));
    torch.manualSeed(0);
    const cpuModel = createModel('unet', { encoderName: 'resnet18', classes: 2 });
    const gpuModel = createModel('unet', { encoderName: 'resnet18', classes: 2 });
    try {
      gpuModel.loadStateDict(cpuModel.stateDict());
      gpuModel.to({ device: 'cuda' });
      for (const [k, v] of Object.entries(gpuModel.stateDict())) assert.equal(v.device, 'cuda:0', k);
      torch.tidy(() => {
        const x = torch.randn([2, 3, 64, 70]);
        const yc = cpuModel.predict(x);
        const exact = exactFloat32(() => gpuModel.predict(x.cuda()));
        assert.equal(exact.device, 'cuda:0');
        assertClose(exact.cpu(), yc, 1e-4, 1e-4, 'unet predict, float32 convolutions');
        // TF32 (10-bit mantissa) convolutions: PyTorch's default on Ampere and later GPUs.
        assertClose(gpuModel.predict(x.cuda()).cpu(), yc, 5e-2, 5e-2, 'unet predict, TF32 allowed');
      });
      gpuModel.train();
      const opt = new torch.optim.Adam(gpuModel.parameters(), { lr: 1e-3 });
      const [x, y] = torch.keep(
        torch.tidy(() => [torch.randn([2, 3, 64, 64], { device: 'cuda' }), torch.rand([2, 2, 64, 64], { device: 'cuda' }).gt(0.5).float()]),
      );
      const losses: number[] = [];
      for (let step = 0; step < 20; step++) {
        torch.tidy(() => {
          opt.zeroGrad();
          const loss = F.binaryCrossEntropyWithLogits(gpuModel.forward(x), y);
          loss.backward();
          opt.step();
          losses.push(loss.item());
        });
      }
      torch.dispose([x, y]);
      assert.ok(losses[19]! < losses[0]! * 0.8, `loss should fall on the GPU: ${losses[0]} -> ${losses[19]}`);
      const opState = opt.stateDict();
      const firstState = Object.values(opState.state)[0] as Record<string, Tensor>;
      assert.equal(firstState.exp_avg!.device, 'cuda:0');

      const file = join(dir, 'gpu.ckpt');
      saveCheckpoint(file, { model: gpuModel, optimizer: opt, step: 20 });
      const fresh = createModel('unet', { encoderName: 'resnet18', classes: 2 });
      const freshOpt = new torch.optim.Adam(fresh.parameters(), { lr: 1e-3 });
      try {
        const info = loadCheckpoint(file, { model: fresh, optimizer: freshOpt });
        assert.equal(info.step, 20);
        torch.tidy(() => {
          const x2 = torch.randn([1, 3, 64, 64]);
          assertClose(fresh.predict(x2), exactFloat32(() => gpuModel.predict(x2.cuda())).cpu(), 1e-4, 1e-4, 'checkpoint moved to the CPU');
        });
      } finally {
        freshOpt.dispose();
        fresh.dispose();
      }
      opt.dispose();
    } finally {
      cpuModel.dispose();
      gpuModel.dispose();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  tensorTest('autocast float16 on CUDA runs convolutions in half and keeps master weights float32', () => {
    const conv = new nn.Conv2d(3, 8, 3, { padding: 1 });
    try {
      conv.to({ device: 'cuda' });
      torch.tidy(() => {
        const x = torch.randn([2, 3, 16, 16], { device: 'cuda' });
        const ref = conv.forward(x);
        const y = torch.autocast({ deviceType: 'cuda' }, () => conv.forward(x));
        assert.equal(y.dtype, 'float16');
        assert.equal(conv.weight.dtype, 'float32');
        assertClose(y.float(), ref, 2e-2, 2e-2, 'fp16 conv');
        y.float().sum().backward();
        assert.equal(conv.weight.grad!.dtype, 'float32');
        assert.equal(conv.weight.grad!.device, 'cuda:0');
      });
    } finally {
      conv.dispose();
    }
  });
});
