// dtype, device and memory-format conversion.
import { native } from '../native.js';
import type { Tensor } from '../tensor.js';
import { dtypeCode, memoryFormatCode, type DType, type MemoryFormat } from '../dtype.js';
import { invalidParameterError } from '../../validate.js';
import { aten, checkDevice, checkOptionKeys, tid, wrap } from './registry.js';

export interface ToOptions {
  dtype?: DType;
  device?: string;
  memoryFormat?: MemoryFormat;
  copy?: boolean;
  nonBlocking?: boolean;
}

const TO = aten('to', 'dtype_layout');

/**
 * Converts dtype, device and/or memory format. Like PyTorch, a no-op conversion shares the
 * input's data (set `copy: true` to force a copy); the result is always a new handle.
 */
export function to(input: Tensor, options: ToOptions): Tensor {
  if (options === undefined) throw invalidParameterError('to', 'options', 'an object', options);
  checkOptionKeys('to', options, ['dtype', 'device', 'memoryFormat', 'copy', 'nonBlocking']);
  const id = tid(input, 'to', 'input');
  const dt = options.dtype === undefined ? null : dtypeCode(options.dtype, 'to');
  const device = options.device === undefined ? null : checkDevice('to', options.device);
  const mf = options.memoryFormat === undefined ? null : memoryFormatCode(options.memoryFormat, 'to');
  return wrap(native.call(TO, id, dt, null, device, null, options.nonBlocking ?? false, options.copy ?? false, mf));
}

function cast(dtype: DType) {
  return (input: Tensor): Tensor => to(input, { dtype });
}
export const float = cast('float32');
export const double = cast('float64');
export const half = cast('float16');
export const bfloat16 = cast('bfloat16');
export const long = cast('int64');
export const int = cast('int32');
export const bool = cast('bool');
export const byte = cast('uint8');

export function cpu(input: Tensor): Tensor {
  return to(input, { device: 'cpu' });
}
export function cuda(input: Tensor, device = 0): Tensor {
  return to(input, { device: `cuda:${device}` });
}
