/**
 * Errors that cross the worker boundary keep only name, message and stack (structured clone),
 * so the stable, machine-readable code lives in `name`.
 */
export function codedError(code: string, message: string, cause?: unknown): Error {
  const error = new Error(message, cause === undefined ? undefined : { cause });
  error.name = code;
  return error;
}

/** True when `error` carries `code` in its name (works for errors that came through comlink too). */
export function hasCode(error: unknown, code: string): boolean {
  return error instanceof Error && error.name === code;
}

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
