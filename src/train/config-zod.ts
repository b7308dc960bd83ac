// The zod building blocks the run configuration's schemas share.
import * as z from 'zod';
import { KNOWN_KEYS, showValue } from './config-issues.js';

/** A strict object whose unknown-key issues carry its own keys, for a "did you mean" and the list of what is allowed. */
export function strict<S extends z.core.$ZodLooseShape>(shape: S) {
  const known = JSON.stringify(Object.keys(shape));
  return z.strictObject(shape, { error: (iss) => (iss.code === 'unrecognized_keys' ? `${KNOWN_KEYS}${known}` : undefined) });
}

export const int = (min: number) => z.int().min(min, { error: (iss) => `expected an integer >= ${min}, got ${showValue(iss.input)}` });
export const positive = () => z.number().positive();
export const fraction = () => z.number().min(0).max(1);
