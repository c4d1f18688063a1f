import { describe, expect, it } from 'vitest';
import { statusText } from './status';

describe('statusText', () => {
  it('says the edge is reachable and the phone can read offline', () => {
    expect(statusText({ online: true, edgeReachable: true, offlineReady: true, device: 'running' })).toBe(
      'Edge reachable · working on this phone · ready offline',
    );
  });

  it('never claims offline use before models are on the phone', () => {
    expect(statusText({ online: true, edgeReachable: undefined, offlineReady: true, device: 'none' })).toBe(
      'Looking for the edge… · phone models download on first use',
    );
  });

  it('says offline first when the network is gone', () => {
    expect(statusText({ online: false, edgeReachable: false, offlineReady: true, device: 'stored' })).toBe('Offline · can read on this phone · ready offline');
  });
});
