/** Planner knobs that are choices, not measurements (measurements live in profiles.json). */
import type { EdgeOptions } from './estimators/edge';
import type { GainPrior } from './estimators/latency-model';

export interface PlannerOptions {
  /** Shares of the line crops sent to the edge while the device recognises the rest (detection on the device). */
  recEdgeShares: number[];
  /** Also consider racing each edge plan with a device run started late enough to still meet the budget. */
  race: boolean;
  /** Word recall differences below this are ties, broken by cost. */
  tieTolerance: number;
  /**
   * Word recall differences below this between plans of different model variant sets are ties too: a quantized set
   * within a point of fp32 reads as well for a person, and is a smaller download and no edge cost.
   */
  variantTolerance: number;
  /** Accuracy a user with `costWeight = 1` trades for a cheaper plan. */
  maxAccuracyTrade: number;
  priors: {
    rtt: { meanMs: number; sdMs: number };
    up: { kbps: number; sdLn: number };
    down: { kbps: number; sdLn: number };
    /** Uplink assumed from a NetInfo downlink reading (NetInfo has no uplink figure). */
    upFromDownRatio: number;
  };
  /** How far a device or the edge may be from its profile before any run was seen. */
  gain: { device: GainPrior; edge: GainPrior };
  edge: EdgeOptions;
  bandwidth: { samples: number; windowMs: number };
  /** Transfers smaller than this say more about latency than throughput and are not used for bandwidth. */
  minTransferBytes: number;
}

export const DEFAULT_OPTIONS: PlannerOptions = {
  recEdgeShares: [0.5, 1],
  race: true,
  tieTolerance: 0.002,
  variantTolerance: 0.01,
  maxAccuracyTrade: 0.03,
  priors: {
    rtt: { meanMs: 150, sdMs: 100 },
    up: { kbps: 1000, sdLn: 1.0 },
    down: { kbps: 2000, sdLn: 1.0 },
    upFromDownRatio: 0.5,
  },
  gain: {
    device: { gainSd: 0.35, offsetSd: 5 },
    // Each edge stage's own speed factor (no shared speed on the edge, see RuntimeModels): other requests beside a
    // run move it by tens of percent.
    edge: { gainSd: 0.5, offsetSd: 5 },
  },
  edge: { refusalCooldownMs: 10_000, statusFreshMs: 3_000, priorFailure: 0.01 },
  bandwidth: { samples: 16, windowMs: 30_000 },
  minTransferBytes: 16 * 1024,
};

export function withDefaults(options: Partial<PlannerOptions> = {}): PlannerOptions {
  return { ...DEFAULT_OPTIONS, ...options };
}
