// Read-only prompt versions: `mlops-prompt:/<name>/v<N>.prompt.md` shows a
// registered version's text (template or chat messages, then its model settings),
// so that VS Code's own diff editor can compare two versions, or a file with one.

import * as vscode from 'vscode';
import { promptText } from '../core/registry/promptDiff.ts';
import { parsePromptFile } from '../core/registry/promptFile.ts';
import { Disposable } from './disposable.ts';
import { NO_STORE } from './workspaceStore.ts';
import type { WorkspaceStore } from './workspaceStore.ts';

export const PROMPT_SCHEME = 'mlops-prompt';

export function promptVersionUri(name: string, version: number): vscode.Uri {
  return vscode.Uri.from({ scheme: PROMPT_SCHEME, path: `/${name}/v${version}.prompt.md` });
}

/** A prompt file as the registry would see it (same layout as a version), for diffs. */
export function promptFileUri(file: vscode.Uri): vscode.Uri {
  const base = file.path.split('/').pop() ?? 'prompt';
  return vscode.Uri.from({ scheme: PROMPT_SCHEME, path: `/file/${base}`, query: file.toString() });
}

export class PromptDocumentProvider
  extends Disposable
  implements vscode.TextDocumentContentProvider
{
  private readonly changed = this.register(new vscode.EventEmitter<vscode.Uri>());
  readonly onDidChange = this.changed.event;

  constructor(private readonly store: WorkspaceStore) {
    super();
    this.register(vscode.workspace.registerTextDocumentContentProvider(PROMPT_SCHEME, this));
    // The file side of a diff follows the editor as it is typed in.
    this.register(
      vscode.workspace.onDidChangeTextDocument((e) => {
        const target = promptFileUri(e.document.uri).toString();
        for (const doc of vscode.workspace.textDocuments) {
          if (doc.uri.toString() === target) this.changed.fire(doc.uri);
        }
      }),
    );
    // Versions never change, but a store that was reopened (another folder) may differ.
    this.register(
      store.onDidChange((change) => {
        if (change) return;
        for (const doc of vscode.workspace.textDocuments) {
          if (doc.uri.scheme === PROMPT_SCHEME) this.changed.fire(doc.uri);
        }
      }),
    );
  }

  async provideTextDocumentContent(uri: vscode.Uri): Promise<string> {
    if (uri.path.startsWith('/file/')) return this.fileText(vscode.Uri.parse(uri.query));
    const m = /^\/(.+)\/v(\d+)\.prompt\.md$/.exec(uri.path);
    if (!m) return `Not a prompt version: ${uri.toString()}\n`;
    // Not get(), as for run documents: a refresh never creates the store.
    const t = await this.store.getIfExists();
    if (!t) return `${NO_STORE}\n`;
    try {
      return promptText(t.registry.promptVersion(m[1]!, Number(m[2])));
    } catch (e) {
      return `${(e as Error).message}\n`;
    }
  }

  private async fileText(file: vscode.Uri): Promise<string> {
    try {
      const open = vscode.workspace.textDocuments.find((d) => d.uri.toString() === file.toString());
      const text = open
        ? open.getText()
        : new TextDecoder().decode(await vscode.workspace.fs.readFile(file));
      return promptText(parsePromptFile(vscode.workspace.asRelativePath(file), text));
    } catch (e) {
      return `${(e as Error).message}\n`;
    }
  }
}
