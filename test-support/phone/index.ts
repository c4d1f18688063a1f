export { BUSY_LOOP_ITERATIONS, CHROMIUM, CHROMIUM_ARGS, launchPhone, workerBusyLoopMs } from './phone-chromium';
export type { Phone, PhoneOptions, ThrottleMethod, WorkerCheck } from './phone-chromium';
