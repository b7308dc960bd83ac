// Convolutions and linear layers. Shapes are checked here so the error names the argument
// and both shapes, before libtorch would say it in its own words.
import { native } from '../../native.js';
import type { Tensor } from '../../tensor.js';
import * as v from '../../../validate.js';
import { aten, checkInt, checkInts, checkOptionKeys, tid, tidOpt, wrap } from '../../ops/registry.js';
import { depthwiseDilatedConv2d } from './conv-depthwise.js';
import { winogradConv2d } from './conv-winograd.js';

export interface Conv2dOptions {
  bias?: Tensor | null;
  stride?: number | number[];
  padding?: number | number[] | 'same' | 'valid';
  dilation?: number | number[];
  groups?: number;
}

const CONV2D = aten('conv2d');
const CONV2D_PAD = aten('conv2d', 'padding');

function checkGroups(op: string, groups: unknown): number {
  const g = checkInt(op, 'groups', groups ?? 1);
  return g >= 1 ? g : v.checkInt(op, 'groups', g, { min: 1 });
}

function checkConvShapes(op: string, input: Tensor, weight: Tensor, groups: number, transposed: boolean): void {
  const x = input.shape;
  const w = weight.shape;
  if (x.length !== 4 && x.length !== 3) {
    throw new RangeError(`${op}: input must be 4-D (N, C, H, W) or 3-D (C, H, W), got shape [${x.join(', ')}]`);
  }
  if (w.length !== 4) throw new RangeError(`${op}: weight must be 4-D, got shape [${w.join(', ')}]`);
  const c = x[x.length - 3]!;
  const expected = transposed ? w[0]! : w[1]! * groups;
  if (c !== expected) {
    throw new RangeError(
      `${op}: input has ${c} channels (shape [${x.join(', ')}]) but weight [${w.join(', ')}] with groups=${groups} expects ${expected}`,
    );
  }
}

/** 2-D convolution: input (N, Cin, H, W), weight (Cout, Cin/groups, kH, kW). */
export function conv2d(input: Tensor, weight: Tensor, options?: Conv2dOptions): Tensor {
  const op = 'F.conv2d';
  checkOptionKeys(op, options, ['bias', 'stride', 'padding', 'dilation', 'groups']);
  const x = tid(input, op, 'input');
  const w = tid(weight, op, 'weight');
  const b = tidOpt(options?.bias, op, 'bias');
  const groups = checkGroups(op, options?.groups);
  checkConvShapes(op, input, weight, groups, false);
  const stride = checkInts(op, 'stride', options?.stride ?? 1, 2);
  const dilation = checkInts(op, 'dilation', options?.dilation ?? 1, 2);
  const padding = options?.padding ?? 0;
  if (typeof padding === 'string' && padding !== 'same' && padding !== 'valid') {
    throw v.invalidParameterError(op, 'padding', "an integer, [h, w], 'same' or 'valid'", padding);
  }
  const p = padding === 'same' || padding === 'valid' ? padding : checkInts(op, 'padding', padding, 2);
  const fast = winogradConv2d(input, weight, options?.bias, stride, p === 'valid' ? [0, 0] : p, dilation, groups);
  if (fast) return fast;
  const shifted = depthwiseDilatedConv2d(input, weight, options?.bias, stride, p === 'valid' ? [0, 0] : p, dilation, groups);
  if (shifted) return shifted;
  if (typeof p === 'string') return wrap(native.call(CONV2D_PAD, x, w, b, stride, p, dilation, groups));
  return wrap(native.call(CONV2D, x, w, b, stride, p, dilation, groups));
}

export interface ConvTranspose2dOptions {
  bias?: Tensor | null;
  stride?: number | number[];
  padding?: number | number[];
  outputPadding?: number | number[];
  groups?: number;
  dilation?: number | number[];
}

const CONV_T2D = aten('conv_transpose2d', 'input');
/** Transposed convolution: weight (Cin, Cout/groups, kH, kW). */
export function convTranspose2d(input: Tensor, weight: Tensor, options?: ConvTranspose2dOptions): Tensor {
  const op = 'F.convTranspose2d';
  checkOptionKeys(op, options, ['bias', 'stride', 'padding', 'outputPadding', 'groups', 'dilation']);
  const x = tid(input, op, 'input');
  const w = tid(weight, op, 'weight');
  const b = tidOpt(options?.bias, op, 'bias');
  const groups = checkGroups(op, options?.groups);
  checkConvShapes(op, input, weight, groups, true);
  return wrap(
    native.call(
      CONV_T2D,
      x,
      w,
      b,
      checkInts(op, 'stride', options?.stride ?? 1, 2),
      checkInts(op, 'padding', options?.padding ?? 0, 2),
      checkInts(op, 'outputPadding', options?.outputPadding ?? 0, 2),
      groups,
      checkInts(op, 'dilation', options?.dilation ?? 1, 2),
    ),
  );
}

const LINEAR = aten('linear');
/** y = x W^T + b, with weight (out, in). */
export function linear(input: Tensor, weight: Tensor, bias?: Tensor | null): Tensor {
  const op = 'F.linear';
  const x = tid(input, op, 'input');
  const w = tid(weight, op, 'weight');
  const ws = weight.shape;
  const xs = input.shape;
  if (ws.length !== 2 && ws.length !== 1) throw new RangeError(`${op}: weight must be 2-D (out, in), got shape [${ws.join(', ')}]`);
  if (xs.length === 0 || xs[xs.length - 1] !== ws[ws.length - 1]) {
    throw new RangeError(`${op}: input's last dimension (shape [${xs.join(', ')}]) must equal weight's in_features ${ws[ws.length - 1]}`);
  }
  return wrap(native.call(LINEAR, x, w, tidOpt(bias, op, 'bias')));
}
