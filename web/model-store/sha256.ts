import { codedError } from '../coded-error';

export async function sha256Hex(bytes: Uint8Array<ArrayBuffer>): Promise<string> {
  // SubtleCrypto exists only in secure contexts (HTTPS or localhost).
  if (!globalThis.crypto?.subtle) {
    throw codedError('InsecureContext', 'Verifying models needs a secure context: open Tandem over HTTPS (or on localhost).');
  }
  const digest = await crypto.subtle.digest('SHA-256', bytes);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
}
