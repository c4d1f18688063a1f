/** Tandem's own HTTP header names (all `x-tandem-*`), in one place for the server, the page, the worker and the benches. */

/** Request header carrying the client's remaining latency budget in milliseconds. */
export const BUDGET_HEADER = 'x-tandem-budget-ms';
/** Request header listing the whole-image configurations the caller accepts (core/protocol/accept.ts). */
export const ACCEPT_HEADER = 'x-tandem-accept';
/** Reply header naming the whole-image configuration that ran. */
export const CONFIG_HEADER = 'x-tandem-config';
