// torch.aminmax and torch.diagonal on hand-computed values.
import assert from 'node:assert/strict';
import { describe } from 'node:test';
import { torch } from '../src/index.js';
import { aminmax } from '../src/torch/ops/reduce.js';
import { diagonal } from '../src/torch/ops/shape.js';
import { assertThrows, tensorTest } from './helpers.js';

describe('metric ops', () => {
  tensorTest('aminmax: over everything and along a dimension, like PyTorch', () => {
    torch.tidy(() => {
      const t = torch.tensor(
        [
          [3, 1, 4],
          [-1, 5, 9],
        ],
        { dtype: 'int64' },
      );
      const all = aminmax(t);
      assert.deepEqual([all.min.item(), all.max.item(), all.min.dtype], [-1, 9, 'int64']);
      const rows = aminmax(t, { dim: 1 });
      assert.deepEqual(
        [rows.min.tolist(), rows.max.tolist()],
        [
          [1, -1],
          [4, 9],
        ],
      );
      const cols = aminmax(t.float(), { dim: 0, keepdim: true });
      assert.deepEqual([cols.min.tolist(), cols.max.tolist()], [[[-1, 1, 4]], [[3, 5, 9]]]);
      assertThrows(() => aminmax(t, { dim: 1.5 }), RangeError, /torch.aminmax: dim must be an integer, got 1.5/);
      assertThrows(() => aminmax(t, { dims: 1 } as never), TypeError, /torch.aminmax: unknown option 'dims'/);
    });
  });

  tensorTest('diagonal: of a matrix, shifted, and of a batch of matrices (a view)', () => {
    torch.tidy(() => {
      const m = torch.arange(9).reshape([3, 3]);
      assert.deepEqual(diagonal(m).tolist(), [0, 4, 8]);
      assert.deepEqual(diagonal(m, 1).tolist(), [1, 5]);
      assert.deepEqual(diagonal(m, -1).tolist(), [3, 7]);
      const batch = torch.arange(18).reshape([2, 3, 3]);
      const d = diagonal(batch, 0, 1, 2);
      assert.deepEqual(d.tolist(), [
        [0, 4, 8],
        [9, 13, 17],
      ]);
      assert.ok(torch.sharesStorage(d, batch));
      assertThrows(() => diagonal('m' as never), TypeError, /torch.diagonal: input must be a Tensor, got 'm'/);
    });
  });
});
