// Any aten operator by name: `torch.ops.call('aten::erfinv', x)`. Overloads are matched
// against the arguments' JS types; a trailing plain object supplies keyword arguments.
import { native, type OpArgInfo, type OpInfo } from '../native.js';
import { Tensor } from '../tensor.js';
import { checkString } from '../../validate.js';
import { wrapReturn } from './registry.js';

const OP_NAME = "an operator name like 'aten::erfinv'";
const cache = new Map<string, { handle: number; info: OpInfo }[]>();

function overloadsOf(name: string): { handle: number; info: OpInfo }[] {
  const full = name.includes('::') ? name : `aten::${name}`;
  let list = cache.get(full);
  if (list) return list;
  const dot = full.indexOf('.', full.indexOf('::'));
  const base = dot < 0 ? full : full.slice(0, dot);
  const names = dot < 0 ? native.overloads(base) : [full.slice(dot + 1)];
  list = names
    .map((o) => native.op(base, o))
    .filter((h) => h >= 0)
    .map((h) => ({ handle: h, info: native.opInfo(h) }))
    .filter((o) => !o.info.args.some((a) => a.isWrite && a.kwargOnly)); // out= variants write into an argument
  if (list.length === 0) throw new Error(`ops.call: libtorch has no operator ${full}`);
  cache.set(full, list);
  return list;
}

// Schema types read like `Tensor`, `Tensor?`, `int[]?`, `Tensor?[]`, `Scalar`, `str`.
function fits(arg: OpArgInfo, v: unknown): boolean {
  const optional = arg.type.endsWith('?');
  const t = optional ? arg.type.slice(0, -1) : arg.type;
  if (v === null || v === undefined) return optional || arg.hasDefault;
  if (v instanceof Tensor) return t === 'Tensor';
  const list = /^(.*)\[\d*\]$/.exec(t)?.[1];
  if (typeof v === 'number')
    return (
      ['int', 'float', 'Scalar', 'number', 'SymInt', 'ScalarType', 'MemoryFormat', 'Layout'].includes(t) ||
      list === 'int' ||
      list === 'SymInt' ||
      list === 'float'
    );
  if (typeof v === 'boolean') return t === 'bool' || t === 'Scalar' || t === 'number';
  if (typeof v === 'string') return t === 'str' || t === 'Device';
  if (Array.isArray(v)) {
    if (list === 'Tensor' || list === 'Tensor?') return v.every((x) => x instanceof Tensor || (list === 'Tensor?' && x === null));
    return (
      (list === 'int' || list === 'SymInt' || list === 'float' || list === 'bool') &&
      v.every((x) => typeof x === 'number' || typeof x === 'boolean')
    );
  }
  return false;
}

function toNative(v: unknown): unknown {
  if (v instanceof Tensor) return v.id;
  if (Array.isArray(v)) return v.map((x) => (x instanceof Tensor ? x.id : x));
  return v;
}

function isKwargs(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Tensor);
}

export function call(name: string, ...args: unknown[]): any {
  checkString('ops.call', 'name', name, OP_NAME);
  const kwargs = args.length > 0 && isKwargs(args[args.length - 1]) ? (args.pop() as Record<string, unknown>) : {};
  const candidates = overloadsOf(name);
  for (const { handle, info } of candidates) {
    const positional = info.args.filter((a) => !a.kwargOnly);
    if (args.length > positional.length) continue;
    const values: unknown[] = info.args.map((a, i) => (i < args.length ? args[i] : kwargs[a.name]));
    if (Object.keys(kwargs).some((k) => !info.args.some((a) => a.name === k))) continue;
    if (!info.args.every((a, i) => fits(a, values[i]))) continue;
    let last = values.length;
    while (last > 0 && values[last - 1] === undefined) last--;
    const out = native.call(handle, ...values.slice(0, last).map(toNative));
    return wrapReturn(info, out);
  }
  const sigs = candidates.map((c) => `  ${c.info.schema}`).join('\n');
  const got = args.map((a) => (a instanceof Tensor ? 'Tensor' : Array.isArray(a) ? 'array' : typeof a)).join(', ');
  throw new TypeError(
    `ops.call: no overload of ${name} accepts (${got}${Object.keys(kwargs).length ? `, {${Object.keys(kwargs).join(', ')}}` : ''}); candidates:\n${sigs}`,
  );
}

/** The schemas of an operator's overloads, for discovering argument names. */
export function schemas(name: string): string[] {
  checkString('ops.schemas', 'name', name, OP_NAME);
  return overloadsOf(name).map((o) => o.info.schema);
}
