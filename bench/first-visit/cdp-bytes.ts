/**
 * Bytes on the wire as Chromium counts them (`Network.loadingFinished.encodedDataLength`: headers and body as
 * received, before content decoding) for a page and every target it starts: dedicated workers and the service
 * worker. Targets are auto-attached from the page's session in non-flat mode (Playwright owns the flat sessions) and
 * paused until their Network domain is on, so no request escapes the count.
 */
import type { CDPSession } from '@playwright/test';

export interface RequestBytes {
  target: string;
  url: string;
  status: number;
  encodedBytes: number;
  contentEncoding: string;
  /** Answered by a service worker or a cache: no bytes crossed the network for it in this target. */
  local: boolean;
}

interface Pending {
  target: string;
  url: string;
  status: number;
  contentEncoding: string;
  local: boolean;
}

type Message = { id?: number; method?: string; params?: Record<string, unknown> };

export class CdpByteCounter {
  readonly finished: RequestBytes[] = [];
  private readonly pending = new Map<string, Pending>();
  private nextId = 1_000_000;

  private constructor(private readonly root: CDPSession) {}

  static async attach(session: CDPSession): Promise<CdpByteCounter> {
    const counter = new CdpByteCounter(session);
    session.on('Network.responseReceived', (p) => counter.onEvent([], 'page', { method: 'Network.responseReceived', params: p as never }));
    session.on('Network.loadingFinished', (p) => counter.onEvent([], 'page', { method: 'Network.loadingFinished', params: p as never }));
    session.on('Target.attachedToTarget', (p) => counter.onEvent([], 'page', { method: 'Target.attachedToTarget', params: p as never }));
    session.on('Target.receivedMessageFromTarget', (p) => counter.onEvent([], 'page', { method: 'Target.receivedMessageFromTarget', params: p as never }));
    await session.send('Network.enable');
    await session.send('Network.setCacheDisabled', { cacheDisabled: false });
    await session.send('Target.setAutoAttach', { autoAttach: true, waitForDebuggerOnStart: true, flatten: false });
    return counter;
  }

  /** Sum over requests that went to the network (local answers excluded, so nothing is counted twice). */
  totals(): { bytes: number; requests: number; byTarget: Record<string, number> } {
    const byTarget: Record<string, number> = {};
    let bytes = 0;
    let requests = 0;
    for (const r of this.finished) {
      if (r.local) continue;
      bytes += r.encodedBytes;
      requests++;
      byTarget[r.target] = (byTarget[r.target] ?? 0) + r.encodedBytes;
    }
    return { bytes, requests, byTarget };
  }

  /** Sends `method` to the target at `path` (session ids from the page down), each hop wrapped in sendMessageToTarget. */
  private send(path: string[], method: string, params: Record<string, unknown> = {}): void {
    let message: Message = { id: this.nextId++, method, params };
    for (let i = path.length - 1; i >= 1; i--) {
      message = { id: this.nextId++, method: 'Target.sendMessageToTarget', params: { sessionId: path[i], message: JSON.stringify(message) } };
    }
    void this.root.send('Target.sendMessageToTarget', { sessionId: path[0]!, message: JSON.stringify(message) }).catch(() => undefined);
  }

  private onEvent(path: string[], target: string, m: Message): void {
    const p = m.params ?? {};
    switch (m.method) {
      case 'Target.receivedMessageFromTarget': {
        const sessionId = p.sessionId as string;
        const inner = JSON.parse(p.message as string) as Message;
        if (inner.method) this.onEvent([...path, sessionId], this.targets.get(sessionId) ?? sessionId, inner);
        return;
      }
      case 'Target.attachedToTarget': {
        const sessionId = p.sessionId as string;
        const info = p.targetInfo as { type: string; url: string };
        this.targets.set(sessionId, `${info.type}`);
        const child = [...path, sessionId];
        this.send(child, 'Network.enable');
        if (info.type !== 'service_worker') this.send(child, 'Target.setAutoAttach', { autoAttach: true, waitForDebuggerOnStart: true, flatten: false });
        this.send(child, 'Runtime.runIfWaitingForDebugger');
        return;
      }
      case 'Network.responseReceived': {
        const response = p.response as {
          url: string;
          status: number;
          headers: Record<string, string>;
          fromServiceWorker?: boolean;
          fromDiskCache?: boolean;
          fromPrefetchCache?: boolean;
        };
        const encoding = Object.entries(response.headers).find(([k]) => k.toLowerCase() === 'content-encoding')?.[1] ?? '';
        this.pending.set(`${path.join('/')}:${p.requestId as string}`, {
          target,
          url: response.url,
          status: response.status,
          contentEncoding: encoding,
          local: Boolean(response.fromServiceWorker || response.fromDiskCache || response.fromPrefetchCache),
        });
        return;
      }
      case 'Network.loadingFinished': {
        const key = `${path.join('/')}:${p.requestId as string}`;
        const r = this.pending.get(key);
        this.pending.delete(key);
        this.finished.push({
          target: r?.target ?? target,
          url: r?.url ?? '',
          status: r?.status ?? 0,
          contentEncoding: r?.contentEncoding ?? '',
          local: r?.local ?? false,
          encodedBytes: Number(p.encodedDataLength ?? 0),
        });
        return;
      }
    }
  }

  private readonly targets = new Map<string, string>();
}
