// Read-only run details: `mlops-run:/<run id>.md` renders a run as Markdown and
// updates while the run changes.

import * as vscode from 'vscode';
import { renderRunMarkdown } from './runReport.ts';
import { Disposable } from './disposable.ts';
import { NO_STORE } from './workspaceStore.ts';
import type { WorkspaceStore } from './workspaceStore.ts';

export const RUN_SCHEME = 'mlops-run';

export function runDocumentUri(runId: string, runName: string): vscode.Uri {
  return vscode.Uri.from({
    scheme: RUN_SCHEME,
    path: `/${runName.replace(/[/\\]/g, '_')}.md`,
    query: runId,
  });
}

/** Opens a run's details beside the active editor (from a panel's "Open run"). */
export async function showRunDocument(runId: string, runName: string): Promise<void> {
  const doc = await vscode.workspace.openTextDocument(runDocumentUri(runId, runName));
  await vscode.window.showTextDocument(doc, {
    preview: false,
    viewColumn: vscode.ViewColumn.Beside,
  });
}

export class RunDocumentProvider extends Disposable implements vscode.TextDocumentContentProvider {
  private readonly changed = this.register(new vscode.EventEmitter<vscode.Uri>());
  readonly onDidChange = this.changed.event;

  constructor(private readonly store: WorkspaceStore) {
    super();
    this.register(vscode.workspace.registerTextDocumentContentProvider(RUN_SCHEME, this));
    this.register(
      store.onDidChange((change) => {
        for (const doc of vscode.workspace.textDocuments) {
          if (doc.uri.scheme === RUN_SCHEME && (!change || change.runs.has(doc.uri.query)))
            this.changed.fire(doc.uri);
        }
      }),
    );
  }

  async provideTextDocumentContent(uri: vscode.Uri): Promise<string> {
    // Not get(): an open run document is refreshed when the store moves, and must not
    // create the store in a folder that does not exist yet.
    const t = await this.store.getIfExists();
    if (!t) return `# Run ${uri.query}\n\n${NO_STORE}\n`;
    try {
      return renderRunMarkdown(t, uri.query);
    } catch (e) {
      return `# Run ${uri.query}\n\n${(e as Error).message}\n`;
    }
  }
}
