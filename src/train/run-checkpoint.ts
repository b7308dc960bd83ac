// A run's checkpoint writes, with the message that says what is left when one fails.
import { existsSync } from 'node:fs';
import { saveCheckpoint, type CheckpointParts } from './checkpoint.js';
import type { CheckpointEvent } from './events.js';

export type CheckpointKind = CheckpointEvent['kind'];

/**
 * saveCheckpoint(path, parts); a failed write (saveCheckpoint writes a temporary file and renames
 * it, so the old file survives) becomes an error that names the checkpoint, the epoch and step,
 * and whether an earlier file of that name is still there.
 */
export function saveRunCheckpoint(kind: CheckpointKind, path: string, file: string, parts: CheckpointParts): void {
  try {
    saveCheckpoint(path, parts);
  } catch (e) {
    const previous = existsSync(path) ? `the previous ${file} is unchanged` : `there is no earlier ${file}`;
    throw new Error(
      `Trainer: the ${kind} checkpoint could not be saved at epoch ${parts.epoch}, step ${parts.step} (${(e as Error).message}); ${previous}`,
      { cause: e },
    );
  }
}
