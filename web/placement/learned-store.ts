/**
 * What the planner learnt about this device and the edge (latency fits, lines per image, re-encode sizes), kept in
 * its own IndexedDB database so the model store's schema stays untouched. Link estimates are never stored.
 * Fits are corrections relative to the profiles they were learnt against, so they are kept per profiles (`key`).
 */
import { openDB, type DBSchema, type IDBPDatabase } from 'idb';
import type { LearnedState } from '../../core/placement';

const DB_NAME = 'tandem-placement';
const DB_VERSION = 1;

interface PlacementDb extends DBSchema {
  learned: { key: string; value: { learned: LearnedState; savedAt: number; profiles: string } };
}

/** The one record kept: learnt against other profiles, it is replaced rather than reused. */
const KEY = 'planner';

let dbPromise: Promise<IDBPDatabase<PlacementDb>> | undefined;

function db(): Promise<IDBPDatabase<PlacementDb>> {
  dbPromise ??= openDB<PlacementDb>(DB_NAME, DB_VERSION, {
    upgrade(database) {
      database.createObjectStore('learned');
    },
  });
  dbPromise.catch(() => (dbPromise = undefined));
  return dbPromise;
}

/**
 * The state learnt against the profiles named `profiles`, or undefined when there is none, it was learnt against
 * other profiles, or storage is unavailable (the planner then starts from the profiles alone).
 */
export async function readLearned(profiles: string): Promise<LearnedState | undefined> {
  try {
    const record = await (await db()).get('learned', KEY);
    return record?.profiles === profiles ? record.learned : undefined;
  } catch {
    return undefined;
  }
}

/** Best effort: losing what was learnt only costs a few less accurate first predictions. */
export async function saveLearned(profiles: string, learned: LearnedState): Promise<void> {
  try {
    await (await db()).put('learned', { learned, savedAt: Date.now(), profiles }, KEY);
  } catch {
    // Storage refused (private window, quota): keep going with what is in memory.
  }
}
