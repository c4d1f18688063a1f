/**
 * What the planner learnt about this device and the edge (latency fits, lines per image, re-encode sizes), kept in
 * its own IndexedDB database so the model store's schema stays untouched. Link estimates are never stored.
 */
import { openDB, type DBSchema, type IDBPDatabase } from 'idb';
import type { LearnedState } from '../../core/placement';

const DB_NAME = 'tandem-placement';
const DB_VERSION = 1;
const KEY = 'planner';

interface PlacementDb extends DBSchema {
  learned: { key: string; value: { learned: LearnedState; savedAt: number } };
}

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

/** The stored state, or undefined when there is none or storage is unavailable (the planner then starts from profiles). */
export async function readLearned(): Promise<LearnedState | undefined> {
  try {
    return (await (await db()).get('learned', KEY))?.learned;
  } catch {
    return undefined;
  }
}

/** Best effort: losing what was learnt only costs a few less accurate first predictions. */
export async function saveLearned(learned: LearnedState): Promise<void> {
  try {
    await (await db()).put('learned', { learned, savedAt: Date.now() }, KEY);
  } catch {
    // Storage refused (private window, quota): keep going with what is in memory.
  }
}
