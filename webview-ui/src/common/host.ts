// The page's side of src/shared/protocol.ts: sends notifications and requests to
// the extension host, dispatches what it sends, and keeps the page's saved state.

import type {
  Envelope,
  HostNotification,
  WebviewNotification,
  WebviewRequest,
} from '../../../src/shared/protocol.ts';

interface VsCodeApi {
  postMessage(message: unknown): void;
  getState(): unknown;
  setState(state: unknown): void;
}

declare function acquireVsCodeApi(): VsCodeApi;

export class HostConnection {
  private readonly api: VsCodeApi = acquireVsCodeApi();
  private nextId = 1;
  private readonly pending = new Map<
    number,
    { resolve: (r: unknown) => void; reject: (e: Error) => void }
  >();
  private readonly handlers = new Map<string, (params: unknown) => void>();

  constructor() {
    window.addEventListener('message', (event: MessageEvent) => {
      const msg = event.data as Envelope;
      if (!msg || typeof msg !== 'object') return;
      if (msg.kind === 'response') {
        const p = this.pending.get(msg.id);
        if (!p) return;
        this.pending.delete(msg.id);
        if (msg.error !== undefined) p.reject(new Error(msg.error));
        else p.resolve(msg.result);
      } else if (msg.kind === 'notification') {
        const handler = this.handlers.get(msg.method);
        try {
          handler?.(msg.params);
        } catch (e) {
          console.error(e);
        }
      }
    });
  }

  on<P>(type: HostNotification<P>, handler: (params: P) => void): void {
    this.handlers.set(type.method, handler as (params: unknown) => void);
  }

  notify<P>(type: WebviewNotification<P>, params: P): void {
    const msg: Envelope = { kind: 'notification', method: type.method, params };
    this.api.postMessage(msg);
  }

  request<P, R>(type: WebviewRequest<P, R>, params: P): Promise<R> {
    const id = this.nextId++;
    const msg: Envelope = { kind: 'request', id, method: type.method, params };
    return new Promise<R>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (r: unknown) => void, reject });
      this.api.postMessage(msg);
    });
  }

  getState<S>(): S | undefined {
    return (this.api.getState() as S | undefined) ?? undefined;
  }

  setState<S>(state: S): void {
    this.api.setState(state);
  }
}
