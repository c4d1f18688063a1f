// Link estimates from measurements, recorded from the real-browser replay on Wi-Fi (10 ms, 50/20 Mbit/s): every plan
// used NetInfo's 5000 kbit/s although the page's probe had measured about 9400 kbit/s, and RTT estimates were
// 117–345 ms, carried over from the polls sent while the page loaded its models.
import { describe, expect, it } from 'vitest';
import { createEstimatorState, decide, observe } from '../index';
import { EXAMPLE_PROFILES as P } from '../example-profiles';
import { buildObservation } from '../observation-builder';
import { alwaysEdgePolicy } from '../policies/edge';
import { tandemPolicy } from '../policies/tandem';
import { RttEstimator } from './rtt';

const wifiNetInfo = { downlinkMbps: 5, rttMs: 50, effectiveType: '4g' as const, type: 'wifi' };
/** Status polls while the page loaded its models and warmed up (main thread and link busy). */
const pageLoadPolls = [117, 345, 212, 160].map((rttMs, k) => ({ atMs: 1000 + k * 1500, rttMs }));

describe('link estimates from measurements', () => {
  it('a probe measured 35 s ago still outranks the NetInfo figure', () => {
    const state = createEstimatorState(P);
    const bytes = 384 * 1024;
    const probe = { atMs: 10_000, direction: 'up' as const, bytes, elapsedMs: 12 + (bytes * 8) / 9400, serverMs: 1 };
    const obs = buildObservation({ nowMs: 45_000, netInfo: wifiNetInfo, rtt: [{ atMs: 9_000, rttMs: 11 }], throughput: [probe] });
    const d = decide(obs, P, tandemPolicy(), state);
    expect(d.inputs.bandwidthSource).toBe('samples');
    expect(d.inputs.upKbps).toBeGreaterThan(8500);
    expect(d.inputs.upKbps).toBeLessThan(11_000);
  });

  it('a probe too fast to time is a lower bound, not nothing', () => {
    const state = createEstimatorState(P);
    // 48 KB in 45 ms: less than the inflated page-load round trips, so nothing is left once one is subtracted.
    const probe = { atMs: 8_000, direction: 'up' as const, bytes: 48 * 1024, elapsedMs: 45, serverMs: 1 };
    const obs = buildObservation({ nowMs: 9_000, netInfo: wifiNetInfo, rtt: pageLoadPolls, throughput: [probe] });
    const d = decide(obs, P, tandemPolicy(), state);
    expect(d.inputs.bandwidthSource).toBe('samples');
    expect(d.inputs.upKbps).toBeGreaterThanOrEqual((48 * 1024 * 8) / 44 - 1);
  });

  it('a probe that shared the phone with on-device work is a lower bound: it cannot pull a measured link down', () => {
    // Recorded on a phone slowed to a quarter speed, 20 Mbit/s uplink, 20 ms: the page's first probe measured about
    // 29 Mbit/s; the next one, sent while the phone re-encoded a photo, took 500 ms for 48 KB (1.3 Mbit/s once the
    // 193 ms polled round trip is subtracted).
    const polls = [{ atMs: 9_000, rttMs: 20 }];
    const first = { atMs: 10_000, direction: 'up' as const, bytes: 384 * 1024, elapsedMs: 20 + (384 * 1024 * 8) / 29_000, serverMs: 1 };
    const contended = { atMs: 30_000, direction: 'up' as const, bytes: 48 * 1024, elapsedMs: 500, serverMs: 1 };
    const at = (lowerBound: boolean) =>
      decide(
        buildObservation({ nowMs: 31_000, netInfo: wifiNetInfo, rtt: polls, throughput: [first, { ...contended, lowerBound }] }),
        P,
        tandemPolicy(),
        createEstimatorState(P),
      ).inputs.upKbps;
    // Taken as a rate, the contended probe drags the harmonic mean to about 1.5 Mbit/s.
    expect(at(false)).toBeLessThan(3000);
    // Taken as a bound, the measured link stands.
    expect(at(true)).toBeGreaterThan(20_000);
    // With nothing measured before it, it is still the best reading there is (not NetInfo's 5000 kbit/s).
    const alone = decide(
      buildObservation({ nowMs: 31_000, netInfo: wifiNetInfo, rtt: polls, throughput: [{ ...contended, lowerBound: true }] }),
      P,
      tandemPolicy(),
      createEstimatorState(P),
    );
    expect(alone.inputs.upKbps).toBeLessThan(1500);
  });

  it('a slow transfer after that bound says the link fell: the bound no longer holds the estimate up', () => {
    const state = createEstimatorState(P);
    const probe = { atMs: 8_000, direction: 'up' as const, bytes: 48 * 1024, elapsedMs: 45, serverMs: 1 };
    // The next upload, 10 s later: 200 KB in 8 s, i.e. about 200 kbit/s (the uplink fell from 20 Mbit/s).
    const upload = { atMs: 18_000, direction: 'up' as const, bytes: 200_000, elapsedMs: 8_000, serverMs: 300 };
    const d = decide(buildObservation({ nowMs: 19_000, netInfo: wifiNetInfo, rtt: pageLoadPolls, throughput: [probe, upload] }), P, tandemPolicy(), state);
    expect(d.inputs.upKbps).toBeLessThan(400);
  });

  it('an upload the device outran (or that ran out of time) still teaches the planner how slow the uplink was', () => {
    const state = createEstimatorState(P);
    const probe = { atMs: 8_000, direction: 'up' as const, bytes: 48 * 1024, elapsedMs: 30, serverMs: 1 };
    const obs = (nowMs: number) => buildObservation({ nowMs, netInfo: wifiNetInfo, rtt: [{ atMs: 7_000, rttMs: 20 }], throughput: [probe] });
    const first = decide(obs(10_000), P, tandemPolicy(), state);
    expect(first.inputs.upKbps).toBeGreaterThan(10_000);
    // The device answered after 11 s while 300 KB were still on their way: the uplink fell to about 200 kbit/s.
    observe(state, first, { atMs: 21_000, ok: true, totalMs: 11_000, winner: 'device', edgeUnanswered: { elapsedMs: 11_000, uploadBytes: 300_000 } });
    // Harmonic mean with the fast probe: the slow transfer dominates it.
    expect(decide(obs(22_000), P, tandemPolicy(), state).inputs.upKbps).toBeLessThan(500);
  });

  it("uploads the server timed: the phone's own delay around a request is not read as a slow link", () => {
    // Recorded on the quarter-speed phone, 20 Mbit/s uplink, 10 ms: three photos the server received in 52–83 ms
    // (its Server-Timing `read`), whose round trips less the server's work were 159–194 ms whatever their size.
    const polls = [15, 52, 48].map((rttMs, k) => ({ atMs: 1_000 + k * 3_000, rttMs }));
    const uploads = [
      { bytes: 85_366, workMs: 200, readMs: 52, restMs: 159 },
      { bytes: 111_419, workMs: 377, readMs: 53, restMs: 170 },
      { bytes: 195_348, workMs: 927, readMs: 83, restMs: 194 },
    ];
    const run = (timedByServer: boolean) => {
      const state = createEstimatorState(P);
      let d = decide(buildObservation({ nowMs: 9_000, netInfo: wifiNetInfo, rtt: polls }), P, tandemPolicy(), state);
      uploads.forEach((u, k) => {
        const edge = {
          elapsedMs: u.workMs + u.restMs,
          uploadBytes: u.bytes,
          downloadBytes: 2_000,
          serverMs: u.workMs,
          ...(timedByServer && { readMs: u.readMs }),
        };
        observe(state, d, { atMs: 10_000 + k * 2_000, ok: true, totalMs: edge.elapsedMs, winner: 'edge', edge });
        d = decide(buildObservation({ nowMs: 11_000 + k * 2_000, netInfo: wifiNetInfo, rtt: polls }), P, tandemPolicy(), state);
      });
      return { inputs: d.inputs, state };
    };
    // From the round trip, the 100 ms the phone took around each request counts as upload: a third of the link.
    expect(run(false).inputs.upKbps).toBeLessThan(7_000);
    const timed = run(true);
    expect(timed.inputs.upKbps).toBeGreaterThan(10_000);
    expect(timed.inputs.upKbps).toBeLessThan(25_000);
    // That time is still paid by every request, as its round trip: not the polls' 34 ms.
    const onEdge = decide(buildObservation({ nowMs: 17_000, netInfo: wifiNetInfo, rtt: polls }), P, alwaysEdgePolicy(), timed.state);
    const rtt = onEdge.predicted.stages.find((s) => s.stage === 'rtt')!;
    expect(timed.inputs.rttMs).toBeLessThan(40);
    expect(rtt.expectedMs).toBeGreaterThan(90);
    expect(rtt.expectedMs).toBeLessThan(200);
  });

  it('a body the server read at once (a proxy in front of it had it all) is timed by the round trip, not taken as instant', () => {
    const polls = [{ atMs: 9_000, rttMs: 20 }];
    // 200 KB over a 2 Mbit/s uplink: 800 ms on the way, read by the server from a buffering proxy in 0.4 ms.
    const upload = { atMs: 10_000, direction: 'up' as const, bytes: 200_000, elapsedMs: 20 + 800 + 300, serverMs: 300, readMs: 0.4 };
    const d = decide(buildObservation({ nowMs: 11_000, netInfo: wifiNetInfo, rtt: polls, throughput: [upload] }), P, tandemPolicy(), createEstimatorState(P));
    expect(d.inputs.upKbps).toBeGreaterThan(1_800);
    expect(d.inputs.upKbps).toBeLessThan(2_200);
  });

  it('RTT comes from the recent minimum-filtered window, not from page-load polls', () => {
    const state = createEstimatorState(P);
    const later = [10, 12, 11, 10].map((rttMs, k) => ({ atMs: 12_000 + k * 7000, rttMs }));
    const d = decide(buildObservation({ nowMs: 40_000, netInfo: wifiNetInfo, rtt: [...pageLoadPolls, ...later] }), P, tandemPolicy(), state);
    expect(d.inputs.rttMs).toBeGreaterThanOrEqual(10);
    expect(d.inputs.rttMs).toBeLessThan(15);
    // TCP's smoothed mean, kept alongside, still remembers the page load.
    expect(state.rtt.srtt).toBeGreaterThan(40);
  });

  it('a burst of slow round trips inside the window does not move the estimate', () => {
    const r = new RttEstimator();
    for (let k = 0; k < 6; k++) r.add(10 + (k % 2), k * 1000);
    r.add(300, 6000);
    r.add(250, 6500);
    const out = r.estimate(7000, undefined, { meanMs: 100, sdMs: 50 }, { meanMs: 0, sdMs: 0, source: 'prior', ageMs: 0 });
    expect(out.meanMs).toBeLessThan(12);
    expect(out.sdMs).toBeLessThan(5);
  });
});
