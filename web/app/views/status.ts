/** What the status line says, from what the page knows. */
export interface StatusFacts {
  online: boolean;
  /** undefined while the first poll is out. */
  edgeReachable: boolean | undefined;
  /** A service worker controls the page: the app itself opens without a network. */
  offlineReady: boolean;
  /** 'running': the runtime is started; 'stored': models are on the phone; 'none': not downloaded yet. */
  device: 'running' | 'stored' | 'none';
}

/** The status line in plain words: whether it works offline, whether the edge answers, whether this phone can read. */
export function statusText(f: StatusFacts): string {
  const parts: string[] = [];
  if (!f.online) parts.push('Offline');
  else parts.push(f.edgeReachable === undefined ? 'Looking for the edge…' : f.edgeReachable ? 'Edge reachable' : 'Edge not reachable');
  parts.push(f.device === 'running' ? 'working on this phone' : f.device === 'stored' ? 'can read on this phone' : 'phone models download on first use');
  if (f.offlineReady && f.device !== 'none') parts.push('ready offline');
  const text = parts.join(' · ');
  return text.charAt(0).toUpperCase() + text.slice(1);
}
