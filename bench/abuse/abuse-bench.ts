/**
 * `npm run bench:abuse [-- --out FILE] [--only abandoned,bombs,json-output,budget,admission,rebinding,hang-ups]
 * [--clients 200] [--bombs 20] [--burst 100]`: replays six ways a few kilobytes of unauthenticated input used to hurt the edge server, each
 * against a fresh server process at its default settings on loopback (findings.ts), and prints the figure after
 * the fix next to the one before. About 3 minutes.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { abandonedRequests, admissionRecovery, dnsRebinding, hangUpsAndStalls, hugeBudget, hugeJsonOutput, pixelBombs } from './findings';

const { values } = parseArgs({
  options: {
    out: { type: 'string', default: 'bench/abuse/results/abuse.json' },
    only: { type: 'string' },
    clients: { type: 'string', default: '200' },
    bombs: { type: 'string', default: '20' },
    burst: { type: 'string', default: '100' },
  },
});
const count = (raw: string | undefined, fallback: number) => Math.max(1, Math.min(1000, Math.floor(Number(raw)) || fallback));
const clients = count(values.clients, 200);
const PROBES = {
  abandoned: () => abandonedRequests(clients),
  bombs: () => pixelBombs(count(values.bombs, 20)),
  'json-output': () => hugeJsonOutput(),
  budget: () => hugeBudget(),
  admission: () => admissionRecovery(count(values.burst, 100)),
  rebinding: () => dnsRebinding(),
  'hang-ups': () => hangUpsAndStalls(),
} as const;
type Probe = keyof typeof PROBES;
const only = values.only ? values.only.split(',').map((s) => s.trim()) : Object.keys(PROBES);
const unknown = only.filter((p) => !(p in PROBES));
if (unknown.length) throw new Error(`unknown --only ${unknown.join(', ')}; choose from ${Object.keys(PROBES).join(', ')}`);

const results: Record<string, unknown> = {};
for (const name of only as Probe[]) {
  const t0 = performance.now();
  process.stdout.write(`${name} ... `);
  try {
    results[name] = await PROBES[name]();
  } catch (e) {
    results[name] = { error: (e as Error).message };
  }
  console.log(`${((performance.now() - t0) / 1000).toFixed(0)} s`);
}

const report = {
  command: `npm run bench:abuse${process.argv.length > 2 ? ' -- ' + process.argv.slice(2).join(' ') : ''}`,
  date: new Date().toISOString(),
  machine: { cores: cpus().length, load_avg_1m_at_end: Math.round(loadavg()[0] * 100) / 100 },
  settings:
    'server defaults (all manifest models, 2 workers x 1 thread, EDGE_MAX_UNBUDGETED 32, EDGE_MAX_PIXELS_IN_FLIGHT 80 M, body idle and header timeouts 10 s)',
  results,
};
mkdirSync(dirname(values.out!), { recursive: true });
writeFileSync(values.out!, JSON.stringify(report, null, 2) + '\n');

// The short table: before (as first measured) and after (this run).
const r = results as Record<string, any>;
const rows: Array<[string, string, string]> = [];
const has = (k: string) => r[k] && !r[k].error;
if (has('abandoned')) {
  const a = r.abandoned;
  for (const wave of ['unbudgeted', 'budgeted'] as const) {
    const w = a[wave];
    rows.push([
      `${a.clients} clients (${wave === 'budgeted' ? 'budget 600 s' : 'no budget'}) post ${Math.round(a.image_bytes / 1024)} KB, hang up after ${a.hang_up_ms} ms: model runs after all were answered; while they left; outcomes`,
      wave === 'unbudgeted' ? '>1,500 in the next minute, 200 in progress' : '',
      `${w.model_runs_after_all_answered}; ${w.model_runs_while_clients_left}; ${JSON.stringify(w.outcomes)}`,
    ]);
  }
  rows.push([
    '  RSS idle/peak/after; next normal request',
    '0.75 -> 6.7 GB; timed out after 60 s',
    `${a.rss_idle_gb}/${a.rss_peak_gb}/${a.rss_after_gb} GB; ${a.next_request.status} in ${a.next_request.ms} ms (queue ${a.next_request.server_queue_ms} ms)`,
  ]);
}
if (has('bombs')) {
  const b = r.bombs;
  rows.push([
    `${b.requests} concurrent 6000x6600 zero PNGs: RSS idle/peak/3 s/15 s`,
    'peak 7.5 GB, stayed 6.9 GB',
    `${b.rss_idle_gb}/${b.rss_peak_gb}/${b.rss_after_3s_gb}/${b.rss_after_15s_gb} GB; ${JSON.stringify(b.replies)}`,
  ]);
}
if (has('json-output')) {
  const j = r['json-output'];
  rows.push([
    'OIP rec [1,3,48,16000], JSON outputs: reply; event loop; RSS peak/3 s',
    '314 MB reply, loop blocked 8.8 s, kept 600 MB',
    `${j.status} ${j.code} (${j.reply_bytes} B) in ${j.ms} ms; worst /v2/health/live ${j.worst_health_live_ms} ms; ${j.rss_peak_gb}/${j.rss_after_3s_gb} GB`,
  ]);
}
if (has('budget')) {
  const b = r.budget;
  rows.push(['budget 3e9 ms: /v1/ocr, OIP deadline_ms', 'refused after 2 ms', `${b.ocr_status} ${JSON.stringify(b.ocr_text)}, ${b.oip_status}`]);
}
if (has('admission')) {
  const a = r.admission;
  rows.push([
    `after ${a.burst} unbudgeted (${JSON.stringify(a.burst_replies)}): budgeted ${a.budget_ms} ms`,
    'all refused (4.6 s predicted)',
    `first ${a.next_budgeted[0].status}, ${a.admitted_of_5}/5 admitted`,
  ]);
}
if (has('rebinding')) {
  const d = r.rebinding;
  rows.push([
    'DNS-rebound Origin = Host',
    'allowed',
    `${d.rebound_status} ${d.rebound_code}, ACAO ${d.rebound_cors_header}; own origin ${d.own_origin_status}`,
  ]);
  rows.push([
    '  CSP / nosniff / frame options; model error has source paths',
    'none; yes',
    `${d.web_app_csp ? 'yes' : 'no'} / ${d.nosniff} / ${d.frame_options}; ${d.model_error_has_source_path} (${d.model_error_status} ${d.model_error_code})`,
  ]);
}
if (has('hang-ups')) {
  const h = r['hang-ups'];
  rows.push([
    'client hang-up: logged as',
    'error with stack, outcome Error',
    `${h.hang_up_logged_info_without_stack ? 'info, no stack' : 'NOT info'}; outcomes ${JSON.stringify(h.hang_up_outcome_counts)}`,
  ]);
  rows.push([
    'stalled body / stalled headers: closed after',
    "Node's default (minutes)",
    `${h.stalled_body_closed_after_ms} ms / ${h.stalled_headers_closed_after_ms} ms (${h.stalled_headers_reply})`,
  ]);
}
for (const [k, v] of Object.entries(r)) if (v?.error) rows.push([k, '', `bench error: ${v.error}`]);
console.log('\n| finding | before | after |\n|---|---|---|');
for (const row of rows) console.log(`| ${row.join(' | ')} |`);
console.log(`\nwrote ${values.out}`);
process.exit(0);
