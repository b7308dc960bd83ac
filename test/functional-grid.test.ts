// F.gridSample and F.affineGrid against PyTorch 1.13: values and gradients for every mode,
// padding mode and alignCorners, 4-D and 5-D, from test/fixtures/augment/fixtures.json
// (scripts/fixtures/make_augment_fixtures.py); plus hand-computed cases and argument errors.
import { describe } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { torch, F, type Tensor } from '../src/index.js';
import { FIXTURES, assertClose, assertThrows, tensorTest } from './helpers.js';

interface GridCase {
  input: number[];
  grid: number[];
  mode: 'bilinear' | 'nearest' | 'bicubic';
  paddingMode: 'zeros' | 'border' | 'reflection';
  alignCorners: boolean;
  output: number[];
  gradInput: number[];
  gradGrid: number[];
  outputShape: number[];
}
interface AffineCase {
  theta: number[];
  size: number[];
  alignCorners: boolean;
  grid: number[];
  gradTheta: number[];
  gridShape: number[];
}
const J = JSON.parse(readFileSync(join(FIXTURES, 'augment', 'fixtures.json'), 'utf8')) as { grid: GridCase[]; affine: AffineCase[] };

/** sin(a * arange(n) + b) * scale: the fixture script's inputs, rebuilt here. */
function ramp(shape: number[], a = 0.37, b = 0, scale = 1): Tensor {
  return torch.tidy(() => {
    const n = shape.reduce((x, y) => x * y, 1);
    return torch.arange(n, { dtype: 'float32' }).mul(a).add(b).sin().mul(scale).reshape(shape);
  });
}

const fromList = (values: number[], shape: number[]): Tensor => torch.tensor(Float32Array.from(values), { shape });

describe('F.gridSample', () => {
  for (const c of J.grid) {
    const name = `${c.input.length}-D ${c.mode}, ${c.paddingMode}, alignCorners ${c.alignCorners}`;
    tensorTest(`${name}: values, d/dinput and d/dgrid equal PyTorch's`, () => {
      torch.tidy(() => {
        const x = ramp(c.input).requiresGrad_();
        const g = ramp(
          c.grid,
          c.input.length === 4 ? 0.23 : 0.31,
          c.input.length === 4 ? 0.5 : 0.2,
          c.input.length === 4 ? 1.25 : 1.2,
        ).requiresGrad_();
        const y = F.gridSample(x, g, { mode: c.mode, paddingMode: c.paddingMode, alignCorners: c.alignCorners });
        assert.deepEqual([...y.shape], c.outputShape);
        assertClose(y, fromList(c.output, c.outputShape), 1e-5, 1e-5, `${name} output`);
        y.mul(ramp(c.outputShape, 0.11, 0.3))
          .sum()
          .backward();
        assertClose(x.grad!, fromList(c.gradInput, c.input), 1e-5, 1e-5, `${name} grad input`);
        assertClose(g.grad!, fromList(c.gradGrid, c.grid), 1e-4, 1e-5, `${name} grad grid`);
      });
    });
  }

  tensorTest('an identity grid reads the input back, and a shifted one moves it by whole pixels', () => {
    torch.tidy(() => {
      const x = torch.arange(12, { dtype: 'float32' }).reshape([1, 1, 3, 4]);
      const identity = F.affineGrid(
        torch.tensor([
          [
            [1, 0, 0],
            [0, 1, 0],
          ],
        ]),
        [1, 1, 3, 4],
      );
      assertClose(F.gridSample(x, identity), x, 1e-6);
      // x + 2/4 in normalised units is one pixel to the right (4 pixels span 2 units).
      const right = F.affineGrid(
        torch.tensor([
          [
            [1, 0, 0.5],
            [0, 1, 0],
          ],
        ]),
        [1, 1, 3, 4],
      );
      const y = F.gridSample(x, right, { paddingMode: 'border' });
      assert.deepEqual(y.reshape([3, 4]).tolist(), [
        [1, 2, 3, 3],
        [5, 6, 7, 7],
        [9, 10, 11, 11],
      ]);
      assert.deepEqual((F.gridSample(x, right).reshape([3, 4]).tolist() as number[][])[0], [1, 2, 3, 0]);
    });
  });

  tensorTest('bad arguments: the message names the argument, what was expected and what came', () => {
    torch.tidy(() => {
      const x = torch.zeros([2, 1, 3, 4]);
      const g = torch.zeros([2, 3, 3, 2]);
      assertThrows(
        () => F.gridSample(x, torch.zeros([1, 3, 3, 2])),
        RangeError,
        /F\.gridSample: grid must have shape \[2, Ho, Wo, 2\]/,
        /got \[1, 3, 3, 2\]/,
      );
      assertThrows(() => F.gridSample(x, torch.zeros([2, 3, 3, 3])), RangeError, /grid must have shape/);
      assertThrows(() => F.gridSample(torch.zeros([3, 4]), g), RangeError, /input must be 4-D .* or 5-D/);
      assertThrows(
        () => F.gridSample(x, g, { mode: 'linear' as 'bilinear' }),
        TypeError,
        /mode must be one of 'bilinear', 'nearest', 'bicubic', got 'linear'/,
      );
      assertThrows(
        () => F.gridSample(x, g, { paddingMode: 'reflect' as 'reflection' }),
        TypeError,
        /paddingMode must be one of 'zeros', 'border', 'reflection', got 'reflect'/,
      );
      assertThrows(
        () => F.gridSample(x, g, { align_corners: true } as object),
        TypeError,
        /unknown option 'align_corners'.*did you mean 'alignCorners'/,
      );
      assertThrows(
        () => F.gridSample(x, g.double()),
        TypeError,
        /grid must be a float32 tensor \(the dtype of input\), got a float64 tensor$/,
      );
      assertThrows(() => F.gridSample(x.long(), g), TypeError, /input must be a floating point tensor, got an int64 tensor$/);
      assertThrows(
        () => F.gridSample(torch.zeros([1, 1, 2, 2, 2]), torch.zeros([1, 2, 2, 2, 3]), { mode: 'bicubic' }),
        TypeError,
        /'bicubic' needs a 4-D input/,
      );
    });
  });
});

describe('F.affineGrid', () => {
  for (const c of J.affine) {
    const name = `size [${c.size.join(', ')}], alignCorners ${c.alignCorners}`;
    tensorTest(`${name}: grid and d/dtheta equal PyTorch's`, () => {
      torch.tidy(() => {
        const theta = ramp(c.theta, 0.7, 0.1, 0.8).requiresGrad_();
        const grid = F.affineGrid(theta, c.size, { alignCorners: c.alignCorners });
        assertClose(grid, fromList(c.grid, c.gridShape), 1e-6, 1e-6, `${name} grid`);
        grid
          .mul(ramp(c.gridShape, 0.11, 0.3))
          .sum()
          .backward();
        assertClose(theta.grad!, fromList(c.gradTheta, c.theta), 1e-5, 1e-5, `${name} grad theta`);
      });
    });
  }

  tensorTest('the identity gives pixel centres in [-1, 1] (alignCorners false: -1 + 1/W ...; true: -1 ... 1)', () => {
    torch.tidy(() => {
      const id = torch.tensor([
        [
          [1, 0, 0],
          [0, 1, 0],
        ],
      ]);
      const xs = (align: boolean) =>
        (F.affineGrid(id, [1, 1, 1, 4], { alignCorners: align }).select(3, 0).reshape([4]).tolist() as number[]).map(
          (v) => Math.round(v * 1e6) / 1e6,
        );
      assert.deepEqual(xs(false), [-0.75, -0.25, 0.25, 0.75]);
      assert.deepEqual(
        xs(true),
        [-1, -1 / 3, 1 / 3, 1].map((v) => Math.round(v * 1e6) / 1e6),
      );
    });
  });

  tensorTest('bad arguments name theta or size and say what shape was expected', () => {
    torch.tidy(() => {
      assertThrows(
        () => F.affineGrid(torch.zeros([2, 2, 3]), [1, 1, 3, 4]),
        RangeError,
        /F\.affineGrid: theta must have shape \[1, 2, 3\] for size \[1, 1, 3, 4\], got \[2, 2, 3\]/,
      );
      assertThrows(
        () => F.affineGrid(torch.zeros([1, 2, 3]), [1, 1, 3]),
        RangeError,
        /size must be an array of 4 .* or 5 .*, got \[1, 1, 3\]/,
      );
      assertThrows(
        () => F.affineGrid(torch.zeros([1, 2, 3]), [1, 1, 0, 4]),
        RangeError,
        /size must be positive integers, got \[1, 1, 0, 4\]/,
      );
      assertThrows(
        () => F.affineGrid(torch.zeros([1, 2, 3], { dtype: 'int64' }), [1, 1, 3, 4]),
        TypeError,
        /theta must be a floating point tensor/,
      );
      assertThrows(
        () => F.affineGrid(torch.zeros([1, 2, 3]), [1, 1, 3, 4], { alignCorners: 1 as unknown as boolean }),
        TypeError,
        /alignCorners must be true or false, got 1/,
      );
    });
  });
});
