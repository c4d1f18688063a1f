import { codedError } from '../coded-error';
import type { EdgeOcrOptions } from '../edge-client';
import type { DeviceOcrOptions, SplitOptions } from '../worker/api';
import type { DeviceSetUse, Executors } from './execute';

/** The error a read the user stopped ends with, whichever step it was at. */
export function stoppedError(): Error {
  return codedError('Stopped', 'Stopped: the read was cancelled before it finished.');
}

/**
 * `ex` with every step stopped by `signal`: a device run before its next model run (the phone is free for the next
 * photo at once), an edge request at once (the server withdraws its queued work), and no step started after it.
 */
export function stoppable(ex: Executors, signal: AbortSignal): Executors {
  const check = () => {
    if (signal.aborted) throw stoppedError();
  };
  const either = (own: AbortSignal | undefined) => (own ? AbortSignal.any([signal, own]) : signal);
  const guard =
    <A extends unknown[], R>(step: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      check();
      const result = await step(...args);
      check();
      return result;
    };
  return {
    ...ex,
    deviceReady: guard((variant: string, use?: DeviceSetUse) => ex.deviceReady(variant, use)),
    deviceOcr: guard((image: Blob, options: DeviceOcrOptions, own?: AbortSignal) => ex.deviceOcr(image, options, either(own))),
    reencode: guard((image: Blob, maxSide: number, quality: number) => ex.reencode(image, maxSide, quality)),
    edgeOcr: guard((image: Blob, options: EdgeOcrOptions) => ex.edgeOcr(image, { ...options, signal: either(options.signal) })),
    split: ex.split && {
      ...ex.split,
      detect: guard((image: Blob, options: DeviceOcrOptions, own?: AbortSignal) => ex.split!.detect(image, options, either(own))),
      recognize: guard((id: number, options: SplitOptions, own?: AbortSignal) => ex.split!.recognize(id, options, either(own))),
    },
  };
}
