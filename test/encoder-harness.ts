// The encoder contract every registered encoder must keep, as smp's BaseEncoderTester: for
// combinations of input bands, depth and output stride, createEncoder builds it, and one eval
// forward on a small input returns depth + 1 features with the channels `outChannels` states, at
// strides 1, 2, 4, ..., 2^depth capped by the output stride, leaving no tensor alive. A new
// encoder gets these tests with one line: `encoderHarness('my-encoder')`.
import assert from 'node:assert/strict';
import { describe } from 'node:test';
import { torch } from '../src/index.js';
import { createEncoder, getEncoderSpec } from '../src/models/encoders/registry.js';
import { tensorTest } from './helpers.js';

export const IN_CHANNELS = [1, 3, 4] as const;
export const DEPTHS = [3, 4, 5] as const;

/**
 * Which combinations of (inChannels, depth, outputStride) to build:
 * - 'all': the full product (27 builds for an encoder that dilates to 16 and 8);
 * - 'pairs': every pair of values of any two of the three together in at least one build (a
 *   Latin square: 9 builds), which catches any fault that needs two settings to show;
 * - 'each': every value of each setting once (3 builds), for encoders too big to build often.
 */
export type Coverage = 'all' | 'pairs' | 'each';

export interface EncoderHarnessOptions {
  coverage?: Coverage;
  /** Side of the square input; a multiple of 32 (default 64). */
  size?: number;
}

export interface EncoderCase {
  inChannels: number;
  depth: number;
  outputStride: 8 | 16 | 32;
}

/** The output strides an encoder supports: 32, then its dilations (16, 8) if any. */
function strides(name: string): (8 | 16 | 32)[] {
  return [32, ...getEncoderSpec(name).dilations];
}

/** The combinations `coverage` asks for, given the output strides the encoder supports. */
export function encoderCases(outputStrides: readonly (8 | 16 | 32)[], coverage: Coverage): EncoderCase[] {
  const n = outputStrides.length;
  if (coverage === 'all') {
    return IN_CHANNELS.flatMap((inChannels) =>
      DEPTHS.flatMap((depth) => outputStrides.map((outputStride) => ({ inChannels, depth, outputStride }))),
    );
  }
  if (coverage === 'pairs') {
    // Row i, column j, symbol (i + j) mod n: with n <= 3 every pair of values meets.
    return IN_CHANNELS.flatMap((inChannels, i) =>
      DEPTHS.map((depth, j) => ({ inChannels, depth, outputStride: outputStrides[(i + j) % n]! })),
    );
  }
  // Each value once, the dilations at the depths where they change the features (16 at depth 5, 8 from depth 4).
  const stride = (s: 8 | 16): 8 | 16 | 32 => (outputStrides.includes(s) ? s : 32);
  return [
    { inChannels: 1, depth: 5, outputStride: stride(16) },
    { inChannels: 4, depth: 4, outputStride: stride(8) },
    { inChannels: 3, depth: 3, outputStride: 32 },
  ];
}

/** [batch, channels, height, width] of every feature an encoder should return for a size x size input. */
export function expectedFeatureShapes(outChannels: readonly number[], outputStride: number, size: number): number[][] {
  return outChannels.map((c, i) => {
    const side = size / Math.min(2 ** i, outputStride);
    return [1, c, side, side];
  });
}

/** Registers the contract tests of the encoder `name` (one test per combination). */
export function encoderHarness(name: string, options: EncoderHarnessOptions = {}): void {
  const size = options.size ?? 64;
  const cases = encoderCases(strides(name), options.coverage ?? 'pairs');
  describe(`encoder ${name}`, () => {
    for (const { inChannels, depth, outputStride } of cases) {
      tensorTest(`inChannels ${inChannels}, depth ${depth}, outputStride ${outputStride}`, () => {
        const e = createEncoder(name, { inChannels, depth, outputStride });
        try {
          assert.equal(e.depth, depth, 'depth');
          assert.equal(e.inChannels, inChannels, 'inChannels');
          assert.equal(e.outputStride, outputStride, 'outputStride');
          assert.equal(e.outChannels.length, depth + 1, "outChannels: one per feature, the input's first");
          e.eval();
          const shapes = torch.tidy(() => torch.noGrad(() => e.forward(torch.randn([1, inChannels, size, size])).map((f) => [...f.shape])));
          assert.equal(shapes.length, depth + 1, 'number of features');
          assert.deepEqual(
            shapes.map((s) => s[1]),
            e.outChannels,
            'feature channels = outChannels',
          );
          assert.deepEqual(shapes, expectedFeatureShapes(e.outChannels, outputStride, size), 'feature shapes');
        } finally {
          e.dispose();
        }
      });
    }
  });
}
