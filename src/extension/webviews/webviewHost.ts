// What every webview panel shares: the HTML shell with a strict CSP and a nonce,
// resource roots limited to the built bundles and media/, the ready handshake
// (messages queue until the page says it listens), zod validation of every message
// from the page, and a count of the bytes sent to it.

import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';
import { z } from 'zod';
import type {
  HostNotification,
  WebviewNotification,
  WebviewRequest,
} from '../../shared/protocol.ts';
import {
  CopyText,
  envelopeSchema,
  messageBytes,
  Ready,
  SaveFile,
  schemaFor,
  ShowError,
} from '../../shared/protocol.ts';
import type { Envelope } from '../../shared/protocol.ts';
import { Disposable } from '../disposable.ts';

export interface WebviewHostOptions {
  extensionUri: vscode.Uri;
  /** The bundle under dist/webview/: `<bundle>.js` and `<bundle>.css`. */
  bundle: string;
  log: vscode.LogOutputChannel;
}

type Handler = (params: unknown) => unknown;

/** sha256 of the empty string, as CSP writes it. */
const EMPTY_STYLE_HASH = 'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=';

export function webviewOptions(extensionUri: vscode.Uri): vscode.WebviewOptions {
  return {
    enableScripts: true,
    localResourceRoots: [
      vscode.Uri.joinPath(extensionUri, 'dist', 'webview'),
      vscode.Uri.joinPath(extensionUri, 'media'),
    ],
  };
}

/** The page: no inline script, no eval; styles and fonts only from the extension. */
export function webviewHtml(
  webview: vscode.Webview,
  extensionUri: vscode.Uri,
  bundle: string,
): string {
  const nonce = randomBytes(16).toString('base64');
  const asset = (file: string): string =>
    webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'dist', 'webview', file)).toString();
  const csp = [
    "default-src 'none'",
    `img-src ${webview.cspSource} data:`,
    `font-src ${webview.cspSource}`,
    // The toolkit's design tokens (FAST) add an empty <style> and fill it through
    // CSSOM; the hash of the empty string allows exactly that, not 'unsafe-inline'.
    `style-src ${webview.cspSource} 'nonce-${nonce}' '${EMPTY_STYLE_HASH}'`,
    `script-src 'nonce-${nonce}'`,
  ].join('; ');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${asset(`${bundle}.css`)}">
</head>
<body>
<div id="app" role="main"></div>
<script nonce="${nonce}" src="${asset(`${bundle}.js`)}"></script>
</body>
</html>`;
}

export class WebviewHost extends Disposable {
  private ready = false;
  private readonly queue: Envelope[] = [];
  private readonly notificationHandlers = new Map<
    string,
    { schema: WebviewNotification<unknown>['params']; fn: Handler }
  >();
  private readonly requestHandlers = new Map<
    string,
    { schema: WebviewRequest<unknown, unknown>['params']; fn: Handler }
  >();
  private readyListener: ((params: { chartPixels: number }, first: boolean) => void) | undefined;
  private readyCount = 0;
  /** Bytes posted to the page since it last said ready. */
  bytesSent = 0;
  private disposedFlag = false;

  constructor(
    readonly panel: vscode.WebviewPanel,
    protected readonly options: WebviewHostOptions,
  ) {
    super();
    panel.webview.options = webviewOptions(options.extensionUri);
    panel.webview.html = webviewHtml(panel.webview, options.extensionUri, options.bundle);
    this.register(panel.webview.onDidReceiveMessage((m: unknown) => void this.receive(m)));
    // Without retainContextWhenHidden the page is destroyed when hidden and says
    // ready again when shown; nothing may be posted in between.
    this.register(
      panel.onDidChangeViewState(() => {
        if (!panel.visible) this.ready = false;
      }),
    );
    this.register(panel.onDidDispose(() => this.dispose()));
  }

  get isDisposed(): boolean {
    return this.disposedFlag;
  }

  override dispose(): void {
    if (this.disposedFlag) return;
    this.disposedFlag = true;
    super.dispose();
    this.panel.dispose();
  }

  /**
   * Called on every ready: the first load, and each time a hidden panel is shown
   * again. Messages queued before it are posted after it returns, unless it calls
   * dropQueued() (a page shown again gets the current state, not what it missed).
   */
  protected onReady(fn: (params: { chartPixels: number }, first: boolean) => void): void {
    this.readyListener = fn;
  }

  protected dropQueued(): void {
    this.queue.length = 0;
  }

  protected onNotification<P>(type: WebviewNotification<P>, fn: (params: P) => unknown): void {
    this.notificationHandlers.set(type.method, { schema: type.params, fn: fn as Handler });
  }

  /** The page's errors: logged under `[tag]` and shown. */
  protected handleShowError(log: vscode.LogOutputChannel, tag: string): void {
    this.onNotification(ShowError, (p) => {
      log.error(`[${tag}] ${p.message}`);
      void vscode.window.showErrorMessage(`MLOps: ${p.message}`);
    });
  }

  /**
   * The page's "Copy as Markdown" (to the clipboard) and "Export" (a save dialog in the
   * workspace, CSV or Markdown by the suggested name, then an offer to open the file).
   * `what` names the content in messages ("the drift report").
   */
  protected handleCopyAndExport(what: string): void {
    this.onNotification(CopyText, async (p) => {
      await vscode.env.clipboard.writeText(p.text);
      void vscode.window.setStatusBarMessage(`Copied ${p.what}`, 3000);
    });
    this.onNotification(SaveFile, async (p) => {
      const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
      const target = await vscode.window.showSaveDialog({
        defaultUri: folder ? vscode.Uri.joinPath(folder, p.suggestedName) : undefined,
        filters: p.suggestedName.endsWith('.csv') ? { CSV: ['csv'] } : { Markdown: ['md'] },
        title: `Export ${what}`,
      });
      if (!target) return;
      await vscode.workspace.fs.writeFile(target, new TextEncoder().encode(p.content));
      const choice = await vscode.window.showInformationMessage(
        `Saved ${what} to ${vscode.workspace.asRelativePath(target)}.`,
        'Open',
      );
      if (choice === 'Open') await vscode.window.showTextDocument(target);
    });
  }

  protected onRequest<P, R>(type: WebviewRequest<P, R>, fn: (params: P) => R | Promise<R>): void {
    this.requestHandlers.set(type.method, { schema: type.params, fn: fn as Handler });
  }

  notify<P>(type: HostNotification<P>, params: P): void {
    const envelope: Envelope = { kind: 'notification', method: type.method, params };
    if (this.ready) this.post(envelope);
    else this.queue.push(envelope);
  }

  private post(envelope: Envelope): void {
    if (this.disposedFlag) return;
    this.bytesSent += messageBytes(envelope);
    void this.panel.webview.postMessage(envelope);
  }

  private async receive(raw: unknown): Promise<void> {
    const parsed = schemaFor(envelopeSchema, z).safeParse(raw);
    if (!parsed.success) {
      this.options.log.warn(`[webview] ${this.options.bundle}: ignored a malformed message`);
      return;
    }
    const msg = parsed.data;
    if (msg.kind === 'response') return;
    if (msg.kind === 'notification' && msg.method === Ready.method) {
      const ready = schemaFor(Ready.params, z).safeParse(msg.params);
      if (!ready.success) {
        this.options.log.warn(`[webview] ${this.options.bundle}: bad ready message`);
        return;
      }
      this.ready = true;
      this.bytesSent = 0;
      this.readyListener?.(ready.data, this.readyCount++ === 0);
      for (const queued of this.queue.splice(0)) this.post(queued);
      return;
    }
    const table = msg.kind === 'request' ? this.requestHandlers : this.notificationHandlers;
    const handler = table.get(msg.method);
    if (!handler) {
      this.options.log.warn(`[webview] ${this.options.bundle}: unknown message ${msg.method}`);
      if (msg.kind === 'request') this.respond(msg.id, undefined, `Unknown request ${msg.method}`);
      return;
    }
    const params = schemaFor(handler.schema, z).safeParse(msg.params);
    if (!params.success) {
      const issue = params.error.issues[0];
      const where = issue?.path.length ? ` at ${issue.path.join('.')}` : '';
      const text = `${msg.method}: invalid parameters${where}: ${issue?.message ?? 'unknown'}`;
      this.options.log.warn(`[webview] ${this.options.bundle}: ${text}`);
      if (msg.kind === 'request') this.respond(msg.id, undefined, text);
      return;
    }
    try {
      const result = await handler.fn(params.data);
      if (msg.kind === 'request') this.respond(msg.id, result);
    } catch (e) {
      this.options.log.error(e as Error);
      if (msg.kind === 'request') this.respond(msg.id, undefined, (e as Error).message);
      else void vscode.window.showErrorMessage(`MLOps: ${(e as Error).message}`);
    }
  }

  private respond(id: number, result: unknown, error?: string): void {
    // Responses go out even before ready: the page asked, so it listens.
    this.post(
      error === undefined ? { kind: 'response', id, result } : { kind: 'response', id, error },
    );
  }
}
