// The line at the top of a prompt file that says where it stands in the registry:
// which version it matches, or that it has unregistered changes against @champion
// (else the latest version), with the action that follows from it.

import * as vscode from 'vscode';
import { parsePromptFile } from '../core/registry/promptFile.ts';
import { COMMAND_IDS } from './commandIds.ts';
import { Disposable } from './disposable.ts';
import type { WorkspaceStore } from './workspaceStore.ts';

// Files only: a registered version opened as a document (mlops-prompt:) has the
// same name pattern but is not a file to register.
export const PROMPT_FILE_SELECTOR: vscode.DocumentSelector = [
  { scheme: 'file', pattern: '**/*.prompty' },
  { scheme: 'file', pattern: '**/*.prompt.md' },
  { scheme: 'file', pattern: '**/*.prompt.txt' },
];

export class PromptLensProvider extends Disposable implements vscode.CodeLensProvider {
  private readonly changed = this.register(new vscode.EventEmitter<void>());
  readonly onDidChangeCodeLenses = this.changed.event;

  constructor(private readonly store: WorkspaceStore) {
    super();
    this.register(vscode.languages.registerCodeLensProvider(PROMPT_FILE_SELECTOR, this));
    this.register(
      store.onDidChange((change) => {
        if (!change || change.registry) this.changed.fire();
      }),
    );
  }

  async provideCodeLenses(doc: vscode.TextDocument): Promise<vscode.CodeLens[]> {
    const top = new vscode.Range(0, 0, 0, 0);
    const lens = (
      title: string,
      command: string,
      args: unknown[] = [doc.uri],
      tooltip?: string,
    ): vscode.CodeLens => new vscode.CodeLens(top, { title, command, arguments: args, tooltip });
    let parsed;
    try {
      parsed = parsePromptFile(vscode.workspace.asRelativePath(doc.uri), doc.getText());
    } catch (e) {
      return [lens(`$(warning) ${(e as Error).message.split('\n')[0]}`, '')];
    }
    const evalLens = lens(
      '$(beaker) Run Eval',
      COMMAND_IDS.runEvalOnPrompt,
      [doc.uri],
      'Run an eval suite on this prompt (with unsaved edits)',
    );
    const t = await this.store.getIfExists().catch(() => undefined);
    const entry = t?.registry.find('prompt', parsed.name);
    if (!t || !entry || entry.latestVersion === null) {
      return [
        lens(
          `$(cloud-upload) ${parsed.name} is not registered: Register Version 1`,
          COMMAND_IDS.registerPromptVersion,
        ),
        evalLens,
      ];
    }
    const match = t.registry.matchingPromptVersion(parsed.name, parsed);
    if (match) {
      const aliases = match.aliases.map((a) => ` @${a}`).join('');
      return [
        lens(
          `$(check) Matches ${parsed.name} v${match.version}${aliases}`,
          COMMAND_IDS.comparePromptWithRegistered,
          [doc.uri],
          'Compare with another registered version',
        ),
        evalLens,
      ];
    }
    const champion = entry.aliases.champion;
    const against = champion ?? entry.latestVersion;
    return [
      lens(
        `$(diff) Unregistered changes against ${champion !== undefined ? `@champion (v${champion})` : `v${against} (latest)`}: Compare`,
        COMMAND_IDS.comparePromptWithRegistered,
      ),
      lens('$(cloud-upload) Register a New Version', COMMAND_IDS.registerPromptVersion),
      evalLens,
    ];
  }
}
