/** Where one OCR request runs. Pure: the page gathers the facts, this decides. */
export type Mode = 'device' | 'edge' | 'auto';
export type Target = 'device' | 'edge';

export interface Placement {
  target: Target;
  /** Short code shown to the user and to tests. */
  reason: 'chosen' | 'offline' | 'online' | 'edge-unavailable';
  /** Where to retry if the target cannot serve the request. */
  fallback?: Target;
}

/**
 * @param online what the browser reports (navigator.onLine)
 * @param edgeReachable the last probe or request to the edge; undefined when not known yet
 */
export function place(mode: Mode, online: boolean, edgeReachable?: boolean): Placement {
  if (mode !== 'auto') return { target: mode, reason: 'chosen' };
  if (!online) return { target: 'device', reason: 'offline' };
  if (edgeReachable === false) return { target: 'device', reason: 'edge-unavailable' };
  return { target: 'edge', reason: 'online', fallback: 'device' };
}

/** Edge failures another placement can recover from; a rejected request (4xx) would fail anywhere. */
export function edgeFailureIsRecoverable(error: unknown): boolean {
  return error instanceof Error && ['EdgeUnreachable', 'EdgeTimeout', 'EdgeFailed'].includes(error.name);
}
