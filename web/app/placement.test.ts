import { describe, expect, it } from 'vitest';
import { edgeFailureIsRecoverable, place } from './placement';

function coded(name: string): Error {
  const error = new Error(name);
  error.name = name;
  return error;
}

describe('place', () => {
  it('honours an explicit mode, online or not', () => {
    expect(place('device', true)).toEqual({ target: 'device', reason: 'chosen' });
    expect(place('edge', false)).toEqual({ target: 'edge', reason: 'chosen' });
  });

  it('runs on the device when offline in auto mode', () => {
    expect(place('auto', false)).toEqual({ target: 'device', reason: 'offline' });
  });

  it('prefers the edge when online, with the device as fallback', () => {
    expect(place('auto', true)).toEqual({ target: 'edge', reason: 'online', fallback: 'device' });
    expect(place('auto', true, true)).toEqual({ target: 'edge', reason: 'online', fallback: 'device' });
  });

  it('stays on the device while the edge is known to be unreachable', () => {
    expect(place('auto', true, false)).toEqual({ target: 'device', reason: 'edge-unavailable' });
    expect(place('edge', true, false)).toEqual({ target: 'edge', reason: 'chosen' });
  });
});

describe('edgeFailureIsRecoverable', () => {
  it('retries elsewhere when the edge is unreachable, late or failing', () => {
    for (const name of ['EdgeUnreachable', 'EdgeTimeout', 'EdgeFailed']) expect(edgeFailureIsRecoverable(coded(name))).toBe(true);
  });

  it('does not retry a request the edge rejected, or unknown errors', () => {
    expect(edgeFailureIsRecoverable(coded('EdgeRejected'))).toBe(false);
    expect(edgeFailureIsRecoverable(coded('TypeError'))).toBe(false);
    expect(edgeFailureIsRecoverable('EdgeTimeout')).toBe(false);
  });
});
