/**
 * The page's placement engine: the core Planner (the Tandem policy, or a baseline for comparisons) over the plans
 * this page can carry out, with what it learnt restored from and saved to IndexedDB. Forced modes (device, edge) are
 * decided by fixed policies on the same estimator state, so their runs teach the planner too.
 */
import {
  Planner,
  createPolicy,
  profiledLineWidth,
  decide,
  fixedModePolicy,
  decideRecognition,
  decideSecondLook,
  executableProfiles,
  observe,
  PAGE_CAPABILITIES,
  withRecognition,
  type Decision,
  type LearnedState,
  type Observation,
  type Outcome,
  type Policy,
} from '../../core/placement';
import type { Profiles } from '../../core/profiles';
import { planLabel, whyCode, WHY_TEXT, type WhyCode } from './explain';
import type { WarmUpResult } from '../worker/api';
import { readLearned, saveLearned } from './learned-store';
import { warmUpOutcome } from './observations';
import { loadProfiles, type PageProfiles } from './profiles';

/** How the page plans: auto mode's policy, and whether learnt state is restored and saved. */
export interface PlannerSettings {
  policy?: 'tandem' | 'layercake' | 'pieslicer';
  /** False: start from the profiles alone and keep nothing (comparison runs that must start alike). */
  learned?: boolean;
}

export type Mode = 'device' | 'edge' | 'auto';

export interface PageDecision {
  mode: Mode;
  decision: Decision;
  policy: Policy;
  label: string;
  why: WhyCode;
  whyText: string;
}

/**
 * Which profiles (and device variant sets) learnt corrections belong to: measured profiles name their machine and
 * date. Null: every set.
 */
function profilesKey(profiles: Profiles, variant: string | null): string {
  return JSON.stringify([profiles.source.kind, profiles.source.description, variant ?? 'every set']);
}

export class PagePlanner {
  private readonly forced: Record<'device' | 'edge', Policy>;
  private saving: Promise<void> = Promise.resolve();

  private constructor(
    readonly planner: Planner,
    readonly source: PageProfiles,
    /** Stage fits restored from earlier sessions on this device (0 on a first visit). */
    readonly restoredFits: number,
    /** Names the profiles the learnt state belongs to. */
    private readonly learnedKey: string,
    /** Whether what is learnt is saved for the next visit. */
    readonly keepsLearned: boolean,
  ) {
    this.forced = { device: fixedModePolicy('device', planner.profiles), edge: fixedModePolicy('edge', planner.profiles) };
  }

  /**
   * `variant`: the one model variant set the device may run (`?variant=`); null lets the planner choose among every
   * set the device holds or could fetch.
   */
  static async create(variant: string | null, settings: PlannerSettings = {}): Promise<PagePlanner> {
    const source = await loadProfiles();
    const key = profilesKey(source.profiles, variant);
    const keepsLearned = settings.learned !== false;
    const learned = keepsLearned ? await readLearned(key) : undefined;
    const planner = PagePlanner.plannerFor(source.profiles, variant, learned);
    if (settings.policy !== undefined) planner.policy = createPolicy(settings.policy);
    const restored = Object.values(learned?.runtimes ?? {}).reduce((n, r) => n + Object.keys(r.fits ?? {}).length, 0);
    return new PagePlanner(planner, source, restored, key, keepsLearned);
  }

  /**
   * The Tandem planner over the plans this page carries out (every variant set, or the one named; split recognition
   * and races, no split detection): the simulator builds its default plan space with the same executableProfiles()
   * call.
   */
  static plannerFor(profiles: Profiles, variant: string | null, learned?: LearnedState): Planner {
    return new Planner(executableProfiles(profiles, variant, PAGE_CAPABILITIES), undefined, {}, learned);
  }

  get profiles(): Profiles {
    return this.planner.profiles;
  }

  decide(obs: Observation, mode: Mode): PageDecision {
    const policy = mode === 'auto' ? this.planner.policy : this.forced[mode];
    return this.explained(obs, mode, policy, decide(obs, this.planner.profiles, policy, this.planner.state));
  }

  private explained(obs: Observation, mode: Mode, policy: Policy, decision: Decision): PageDecision {
    const all = this.planner.predictAll(obs);
    const why = whyCode(decision, all, (i) => this.planner.explain(obs, i), obs.preferences.saveData);
    return { mode, decision, policy, label: planLabel(decision.plan), why, whyText: WHY_TEXT[why] };
  }

  /**
   * After `d`'s read found `lines` lines: a second look at a larger side (decideSecondLook), with
   * `obs.request.budgetMs` the time left; null when auto mode's policy does not look again or there is no call for it.
   */
  secondLook(d: PageDecision, obs: Observation, lines: number): PageDecision | null {
    if (d.mode !== 'auto' || d.policy.looksAgainWhenShort !== true) return null;
    const decision = decideSecondLook(obs, this.planner.profiles, d.policy, this.planner.state, d.decision, lines);
    return decision === null ? null : this.explained(obs, d.mode, d.policy, decision);
  }

  /**
   * Where the crops of a request detected on the device are recognised, decided with their number known and
   * `obs.request.budgetMs` the time left. `forcedShare` (a URL setting for comparisons) overrides the choice.
   */
  redecide(d: PageDecision, obs: Observation, lines: number, forcedShare?: number): Decision {
    const recognition = decideRecognition(obs, this.planner.profiles, this.planner.state, d.decision, lines);
    if (forcedShare === undefined) return recognition;
    const config = d.decision.plan.config.index;
    const plan = this.planner.state.space.plans.find(
      (p) => p.config.index === config && (forcedShare > 0 ? p.kind === 'split-rec' && p.recEdgeShare === forcedShare : p.kind === 'device'),
    );
    return plan ? { ...recognition, plan } : recognition;
  }

  /**
   * Learns the device's speed from the worker's warm-up, as a device run of the default configuration on a photo
   * of the warm-up's size (`obs.request`, see warmUpRequest): before the first photo is read, the planner knows
   * whether this is a fast desktop or a slow phone, instead of assuming the profiles' default device. Its
   * prediction errors are kept apart from real requests' (policy name "warm-up").
   */
  observeWarmUp(obs: Observation, warm: WarmUpResult): void {
    const policy: Policy = { ...this.forced.device, name: 'warm-up' };
    const decision = decide(obs, this.planner.profiles, policy, this.planner.state);
    if (decision.plan.kind !== 'device') return;
    this.learn(decision, warmUpOutcome(warm, decision.plan.config.maxSide, obs.nowMs, profiledLineWidth(this.planner.profiles)), policy);
  }

  /** Learns from a finished run and stores what was learnt (in the background). */
  observe(d: PageDecision, outcome: Outcome, recognition?: Decision): void {
    this.learn(recognition ? withRecognition(d.decision, recognition) : d.decision, outcome, d.policy);
  }

  private learn(decision: Decision, outcome: Outcome, policy: Policy): void {
    observe(this.planner.state, decision, outcome, policy);
    if (!this.keepsLearned) return;
    const learned = this.planner.learned();
    this.saving = this.saving.then(() => saveLearned(this.learnedKey, learned));
  }
}
