// Config errors a person can act on: zod's issues turned into one line each, naming the field's
// path (`optimizer.lr`), what it allows and what came, so a config with three mistakes is fixed
// in one edit instead of three runs.
import type * as z from 'zod';

/** A run configuration that does not validate: `issues` holds one line per problem. */
export class ConfigError extends Error {
  constructor(readonly issues: string[]) {
    super(issues.join('\n'));
    this.name = 'ConfigError';
  }
}

/** Marks the message a strict object's error map gives unknown keys: the object's own keys follow as JSON. */
export const KNOWN_KEYS = '\u0000known:';

type Issue = z.core.$ZodIssue;
type Path = readonly PropertyKey[];

/** `['augment', 0, 'p']` as `augment[0].p`. */
export function pathString(path: Path): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out === '' ? String(p) : `.${String(p)}`;
  return out;
}

/** A value as a config file would spell it: strings in double quotes, short JSON for the rest. */
export function showValue(v: unknown): string {
  if (v === undefined) return 'nothing (the field is required)';
  if (typeof v === 'number' || typeof v === 'boolean' || v === null) return String(v);
  let json: string;
  try {
    json = JSON.stringify(v) ?? String(v);
  } catch {
    json = String(v);
  }
  return json.length > 60 ? `${json.slice(0, 57)}...` : json;
}

const TYPE_WORDS: Record<string, string> = {
  int: 'an integer',
  number: 'a number',
  string: 'a string',
  boolean: 'true or false',
  object: 'a mapping (key: value)',
  record: 'a mapping (key: value)',
  array: 'a list',
  tuple: 'a list',
  null: 'null',
};

const list = (values: readonly unknown[]): string =>
  values.length === 1 ? showValue(values[0]) : `one of ${values.map(showValue).join(', ')}`;

function bound(issue: { origin: string; inclusive?: boolean }, value: number | bigint, big: boolean): string {
  const n = Number(value);
  if (issue.origin === 'array' || issue.origin === 'set') return big ? `at most ${n} item(s)` : `at least ${n} item(s)`;
  if (issue.origin === 'string') return n === 1 && !big ? 'a non-empty string' : `${big ? 'at most' : 'at least'} ${n} character(s)`;
  const op = big ? (issue.inclusive ? '<=' : '<') : issue.inclusive ? '>=' : '>';
  return `${issue.origin === 'int' ? 'an integer' : 'a number'} ${op} ${n}`;
}

/** The key a typo probably meant: same letters ignoring case and underscores, or one or two edits away. */
export function didYouMean(key: string, known: readonly string[]): string | undefined {
  const flat = (s: string) => s.toLowerCase().replace(/[_-]/g, '');
  const close = (a: string, b: string) => {
    let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
    for (let i = 1; i <= a.length; i++) {
      const row = [i];
      for (let j = 1; j <= b.length; j++) row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = row;
    }
    return prev[b.length]! <= Math.min(2, Math.max(1, Math.floor(a.length / 3)));
  };
  return known.find((k) => flat(k) === flat(key)) ?? known.find((k) => close(key, k));
}

function unknownKeys(issue: Extract<Issue, { code: 'unrecognized_keys' }>, path: Path): string[] {
  const known: string[] = issue.message.startsWith(KNOWN_KEYS) ? JSON.parse(issue.message.slice(KNOWN_KEYS.length)) : [];
  return issue.keys.map((key) => {
    const hint = didYouMean(key, known);
    return `${pathString([...path, key])}: unknown field${hint ? `; did you mean "${hint}"?` : ''}${known.length ? ` (allowed here: ${known.join(', ')})` : ''}`;
  });
}

/**
 * How far a union branch is from the input: a wrong kind of value at its root counts most,
 * then missing or unknown fields at its top, then anything deeper (a near miss).
 */
function distance(issues: readonly Issue[]): number {
  let d = 0;
  for (const i of issues) {
    if (i.path.length === 0 && i.code === 'invalid_type') d += 1000;
    else if (i.path.length === 0 && i.code === 'invalid_union' && i.errors.length > 0) d += Math.min(...i.errors.map(distance));
    else if (i.path.length === 0 && i.code === 'unrecognized_keys') d += 10 * i.keys.length;
    else if (i.path.length === 1 && i.input === undefined) d += 10;
    else d += 1;
  }
  return d;
}

function unionLines(issue: Extract<Issue, { code: 'invalid_union' }>, path: Path): string[] {
  const here = pathString(path) || '(the config)';
  if (issue.discriminator !== undefined) {
    const options = ((issue as { options?: unknown[] }).options ?? []).filter((o) => o !== undefined && o !== null);
    const got = (issue.input as Record<string, unknown> | undefined)?.[issue.discriminator];
    return [`${here}: expected ${list(options)}, got ${showValue(got)}`];
  }
  const branches = issue.errors;
  if (branches.length === 0) return [`${here}: ${issue.message}`];
  const scored = branches.map((b) => ({ b, d: distance(b) }));
  if (scored.every((s) => s.d >= 1000)) {
    const kinds = [...new Set(branches.flatMap((b) => b.filter((i) => i.path.length === 0).map(expectedOf)))];
    return [`${here}: expected ${kinds.join(' or ')}, got ${showValue(issue.input)}`];
  }
  const best = scored.reduce((a, s) => (s.d < a.d ? s : a));
  return best.b.flatMap((i) => issueLines(i, path));
}

function expectedOf(i: Issue): string {
  if (i.code === 'invalid_type') return TYPE_WORDS[i.expected] ?? i.expected;
  if (i.code === 'invalid_value') return list(i.values);
  return i.message;
}

/** The lines of one issue, `prefix` being the path of the union it sits in. */
function issueLines(issue: Issue, prefix: Path = []): string[] {
  const path = [...prefix, ...issue.path];
  const at = pathString(path) || '(the config)';
  switch (issue.code) {
    case 'invalid_type':
      return [`${at}: expected ${TYPE_WORDS[issue.expected] ?? issue.expected}, got ${showValue(issue.input)}`];
    case 'invalid_value':
      return [`${at}: expected ${list(issue.values)}, got ${showValue(issue.input)}`];
    case 'too_small':
      if (issue.message.startsWith('expected ')) return [`${at}: ${issue.message}`];
      return [`${at}: expected ${bound(issue, issue.minimum, false)}, got ${showValue(issue.input)}`];
    case 'too_big':
      return [`${at}: expected ${bound(issue, issue.maximum, true)}, got ${showValue(issue.input)}`];
    case 'unrecognized_keys':
      return unknownKeys(issue, path);
    case 'invalid_union':
      return unionLines(issue, path);
    case 'custom':
      return [`${at}: ${issue.message}`];
    default:
      return [`${at}: ${issue.message}${issue.input !== undefined ? `, got ${showValue(issue.input)}` : ''}`];
  }
}

/** One line per issue, each starting with `source` (a file name, or 'config'). */
export function formatIssues(issues: readonly Issue[], source: string): string[] {
  return issues.flatMap((i) => issueLines(i)).map((line) => `${source}: ${line}`);
}

/**
 * An error a library function threw about a value the config passed through (model options,
 * an augmentation's options, a data source's options), re-addressed to the config's `path`:
 * `Unet: decoderChannels must be ..., got ...` becomes `model.decoderChannels: must be ..., got ... (Unet)`.
 */
export function passThroughIssue(source: string, path: string, error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const m = /^([A-Za-z][\w.]*): ([A-Za-z_][\w]*(?:\[\d+\])*(?:\.[A-Za-z_][\w]*(?:\[\d+\])*)*) must be ([\s\S]*)$/.exec(message);
  if (m) return `${source}: ${path}.${m[2]}: must be ${m[3]} (${m[1]})`;
  return `${source}: ${path}: ${message}`;
}
