// Registry commands: register a prompt version from a prompt file, compare it with
// a registered version, compare two versions, set / move / remove aliases, delete
// a version, register a model version from a run's artifact, open the run behind
// a version, copy a version's URI.

import { createHash } from 'node:crypto';
import * as vscode from 'vscode';
import type { PromptVersion, RegistryKind } from '../../core/registry/registry.ts';
import { isPromptFile, parsePromptFile } from '../../core/registry/promptFile.ts';
import type { PromptFileContent } from '../../core/registry/promptFile.ts';
import { COMMAND_IDS } from '../commandIds.ts';
import { promptFileUri, promptVersionUri } from '../promptDocument.ts';
import { runDocumentUri } from '../runDocument.ts';
import type { ExperimentsNode } from '../views/experimentsTree.ts';
import type { RegistryNode, RegistryTree } from '../views/registryTree.ts';
import type { CommandContext } from './context.ts';
import { writableStore } from './context.ts';
import { registerCommand, UserError } from './register.ts';

export interface RegistryContext extends CommandContext {
  models: RegistryTree;
  prompts: RegistryTree;
}

type VersionNode = Extract<RegistryNode, { kind: 'modelVersion' | 'promptVersion' }>;

function versionOf(node: RegistryNode | undefined): {
  registry: RegistryKind;
  name: string;
  version: number;
  aliases: string[];
} {
  if (node?.kind === 'modelVersion' || node?.kind === 'promptVersion') {
    return {
      registry: node.registry,
      name: node.version.name,
      version: node.version.version,
      aliases: node.version.aliases,
    };
  }
  throw new UserError('Select a version in the Models or Prompts view first.');
}

/** The prompt file a command applies to: the argument, else the active editor. */
function promptDocument(uri: vscode.Uri | undefined): vscode.TextDocument {
  const doc = uri
    ? vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri.toString())
    : vscode.window.activeTextEditor?.document;
  if (doc && isPromptFile(doc.fileName)) return doc;
  if (uri && isPromptFile(uri.path)) {
    throw new UserError(`Open ${vscode.workspace.asRelativePath(uri)} first.`);
  }
  throw new UserError('Open a prompt file (*.prompty, *.prompt.md or *.prompt.txt) first.');
}

async function openPromptDocument(uri: vscode.Uri | undefined): Promise<vscode.TextDocument> {
  if (uri && !vscode.workspace.textDocuments.some((d) => d.uri.toString() === uri.toString())) {
    return vscode.workspace.openTextDocument(uri);
  }
  return promptDocument(uri);
}

function parseDocument(doc: vscode.TextDocument): PromptFileContent {
  return parsePromptFile(vscode.workspace.asRelativePath(doc.uri), doc.getText());
}

async function pickPromptVersion(
  ctx: CommandContext,
  name: string,
  title: string,
): Promise<PromptVersion | undefined> {
  const t = await ctx.store.get();
  const versions = t.registry.promptVersions(name);
  if (versions.length === 0) throw new UserError(`${name} has no registered versions yet.`);
  // @champion first: the version a change is usually judged against.
  const ordered = [...versions].sort(
    (a, b) => Number(b.aliases.includes('champion')) - Number(a.aliases.includes('champion')),
  );
  const chosen = await vscode.window.showQuickPick(
    ordered.map((v) => ({
      label: `v${v.version}`,
      description: [v.aliases.map((a) => `@${a}`).join(' '), v.commitMessage ?? '']
        .filter(Boolean)
        .join(' · '),
      version: v,
    })),
    { title, placeHolder: 'A version or alias to compare with' },
  );
  return chosen?.version;
}

export function registerRegistryCommands(ctx: RegistryContext): vscode.Disposable[] {
  const { log } = ctx;
  const treeOf = (k: RegistryKind): RegistryTree => (k === 'model' ? ctx.models : ctx.prompts);
  return [
    registerCommand(COMMAND_IDS.registerPromptVersion, log, async (uri?: vscode.Uri) => {
      const doc = await openPromptDocument(uri);
      const parsed = parseDocument(doc);
      const t = await writableStore(ctx);
      const match = t.registry.matchingPromptVersion(parsed.name, parsed);
      if (match) {
        void vscode.window.showInformationMessage(
          `${parsed.name} version ${match.version} already has this text; nothing was registered.`,
        );
        return;
      }
      const message = await vscode.window.showInputBox({
        title: `Register a new version of ${parsed.name}`,
        prompt: 'What changed (kept with the version, like a commit message)',
        placeHolder: 'e.g. ask for bullet points',
      });
      if (message === undefined) return;
      const text = doc.getText();
      const result = await t.registry.registerPrompt(
        parsed.name,
        {
          template: parsed.template,
          messages: parsed.messages,
          modelSettings: parsed.modelSettings,
          commitMessage: message,
          sourceFile: vscode.workspace.asRelativePath(doc.uri),
          sourceDigest: createHash('sha256').update(text).digest('hex'),
        },
        { description: parsed.description ?? undefined, tags: parsed.tags },
      );
      log.info(`[registry] ${result.message}`);
      void vscode.window.showInformationMessage(result.message);
      treeOf('prompt').refresh();
    }),
    registerCommand(COMMAND_IDS.comparePromptWithRegistered, log, async (uri?: vscode.Uri) => {
      const doc = await openPromptDocument(uri);
      const parsed = parseDocument(doc);
      const t = await ctx.store.get();
      if (!t.registry.find('prompt', parsed.name)) {
        throw new UserError(
          `${parsed.name} is not registered yet: register a first version to compare with.`,
        );
      }
      const v = await pickPromptVersion(
        ctx,
        parsed.name,
        `Compare ${vscode.workspace.asRelativePath(doc.uri)} with`,
      );
      if (!v) return;
      await vscode.commands.executeCommand(
        'vscode.diff',
        promptVersionUri(v.name, v.version),
        promptFileUri(doc.uri),
        `${v.name} v${v.version} ↔ ${vscode.workspace.asRelativePath(doc.uri)}`,
      );
    }),
    registerCommand(
      COMMAND_IDS.comparePromptVersions,
      log,
      async (node?: RegistryNode, selection?: RegistryNode[]) => {
        const picked = (
          selection && node && selection.includes(node)
            ? selection
            : node
              ? [node]
              : [...ctx.prompts.view.selection]
        ).filter(
          (n): n is Extract<RegistryNode, { kind: 'promptVersion' }> => n.kind === 'promptVersion',
        );
        let older: PromptVersion | undefined;
        let newer: PromptVersion | undefined;
        if (picked.length >= 2) {
          const [a, b] = picked.map((p) => p.version);
          if (a!.name !== b!.name) throw new UserError('Select two versions of the same prompt.');
          [older, newer] = a!.version < b!.version ? [a, b] : [b, a];
        } else if (picked.length === 1) {
          newer = picked[0]!.version;
          older = picked[0]!.previous;
          if (!older)
            throw new UserError(
              `${newer.name} v${newer.version} is the first version: nothing before it.`,
            );
        } else {
          throw new UserError(
            'Select one version (to compare with the one before) or two versions in the Prompts view.',
          );
        }
        await vscode.commands.executeCommand(
          'vscode.diff',
          promptVersionUri(older!.name, older!.version),
          promptVersionUri(newer!.name, newer!.version),
          `${newer!.name} v${older!.version} ↔ v${newer!.version}`,
        );
      },
    ),
    registerCommand(COMMAND_IDS.openPromptVersion, log, async (node?: RegistryNode) => {
      const v = versionOf(node);
      await vscode.window.showTextDocument(promptVersionUri(v.name, v.version), { preview: true });
    }),
    registerCommand(COMMAND_IDS.setAlias, log, async (node?: RegistryNode) => {
      const v = versionOf(node);
      const t = await writableStore(ctx);
      const current = t.registry.get(v.registry, v.name).aliases;
      const names = [...new Set(['champion', 'challenger', ...Object.keys(current)])];
      const picked = await vscode.window.showQuickPick(
        [
          ...names.map((a) => ({
            label: `@${a}`,
            alias: a,
            description:
              current[a] === undefined
                ? 'not set'
                : current[a] === v.version
                  ? 'already here'
                  : `now on v${current[a]}: move it here`,
          })),
          { label: 'Another alias…', alias: '', description: '' },
        ],
        { title: `Set an alias on ${v.name} v${v.version}` },
      );
      if (!picked) return;
      let alias = picked.alias;
      if (!alias) {
        const typed = await vscode.window.showInputBox({
          title: 'New alias',
          prompt: "Letters, digits, '_' and '-' ('latest' and 'v<number>' are reserved)",
          validateInput: (s) =>
            /^[\w-]+$/.test(s) && s !== 'latest' && !/^v\d+$/i.test(s)
              ? undefined
              : 'Not a valid alias',
        });
        if (!typed) return;
        alias = typed;
      }
      let reason: string | undefined;
      if (
        alias === 'champion' &&
        current.champion !== undefined &&
        current.champion !== v.version
      ) {
        reason = await vscode.window.showInputBox({
          title: `Move @champion from v${current.champion} to v${v.version}`,
          prompt: 'Why? (kept in the alias history)',
          validateInput: (s) => (s.trim() ? undefined : 'Say why the champion changes'),
        });
        if (reason === undefined) return;
      }
      const moved = await t.registry.setAlias(v.registry, v.name, alias, v.version, { reason });
      log.info(`[registry] @${alias} of ${v.name}: ${moved.from ?? '-'} -> ${moved.to}`);
      void vscode.window.setStatusBarMessage(
        moved.from === moved.to
          ? `@${alias} already on v${v.version}`
          : `@${alias} now on ${v.name} v${v.version}`,
        4000,
      );
      treeOf(v.registry).refresh();
    }),
    registerCommand(COMMAND_IDS.removeAlias, log, async (node?: RegistryNode) => {
      const v = versionOf(node);
      if (v.aliases.length === 0) throw new UserError(`${v.name} v${v.version} has no alias.`);
      const alias =
        v.aliases.length === 1
          ? v.aliases[0]
          : await vscode.window.showQuickPick(v.aliases, { title: 'Remove which alias?' });
      if (!alias) return;
      const ok = await vscode.window.showWarningMessage(
        `Remove @${alias} from ${v.name} v${v.version}?`,
        {
          modal: true,
          detail:
            'Whatever resolves @' +
            alias +
            ' will fail until it is set again. The move is kept in the alias history.',
        },
        'Remove',
      );
      if (ok !== 'Remove') return;
      const t = await writableStore(ctx);
      await t.registry.removeAlias(v.registry, v.name, alias);
      treeOf(v.registry).refresh();
    }),
    registerCommand(COMMAND_IDS.deleteRegistryVersion, log, async (node?: RegistryNode) => {
      const v = versionOf(node);
      if (v.aliases.length > 0) {
        throw new UserError(
          `${v.name} v${v.version} is ${v.aliases.map((a) => `@${a}`).join(', ')}: move or remove the alias first.`,
        );
      }
      const ok = await vscode.window.showWarningMessage(
        `Delete ${v.registry} ${v.name} version ${v.version}?`,
        {
          modal: true,
          detail: 'The version disappears from the registry and its number is not given again.',
        },
        'Delete',
      );
      if (ok !== 'Delete') return;
      const t = await writableStore(ctx);
      await t.registry.deleteVersion(v.registry, v.name, v.version);
      treeOf(v.registry).refresh();
    }),
    registerCommand(
      COMMAND_IDS.openLinkedRun,
      log,
      async (arg?: RegistryNode | string, runName?: string) => {
        let runId: string | undefined;
        if (typeof arg === 'string') runId = arg;
        else if (arg?.kind === 'modelVersion') runId = arg.version.runId ?? undefined;
        if (!runId) throw new UserError('This version has no run linked to it.');
        const t = await ctx.store.get();
        const name = runName ?? t.getRunInfo(runId).runName;
        const doc = await vscode.workspace.openTextDocument(runDocumentUri(runId, name));
        await vscode.window.showTextDocument(doc, { preview: false });
      },
    ),
    registerCommand(COMMAND_IDS.copyRegistryUri, log, async (node?: RegistryNode) => {
      const v = versionOf(node);
      const uri = `${v.registry === 'model' ? 'models' : 'prompts'}:/${v.name}/${v.version}`;
      await vscode.env.clipboard.writeText(uri);
      void vscode.window.setStatusBarMessage(`Copied ${uri}`, 3000);
    }),
    registerCommand(COMMAND_IDS.registerModelFromArtifact, log, async (node?: ExperimentsNode) => {
      if (node?.kind !== 'artifact')
        throw new UserError("Right-click a run's artifact in the Experiments view first.");
      const t = await writableStore(ctx);
      const models = t.registry.list('model');
      const picked = await vscode.window.showQuickPick(
        [
          ...models.map((m) => ({
            label: m.name,
            description: `${m.versionCount} versions`,
            name: m.name,
          })),
          { label: 'New model…', description: '', name: '' },
        ],
        { title: `Register ${node.entry.path} as a model version` },
      );
      if (!picked) return;
      let name = picked.name;
      if (!name) {
        const typed = await vscode.window.showInputBox({
          title: 'Model name',
          prompt: "Up to 256 characters without '/', '@', ':' or '\\'",
          value: node.entry.path.split('/')[0],
        });
        if (!typed?.trim()) return;
        name = typed.trim();
      }
      const v = await t.registry.createModelVersion(name, {
        source: `runs:/${node.runId}/${node.entry.path}`,
        runId: node.runId,
        create: true,
      });
      log.info(`[registry] registered ${name} version ${v.version} from run ${node.runId}`);
      const next = await vscode.window.showInformationMessage(
        `Registered ${name} version ${v.version}.`,
        'Set an Alias…',
      );
      treeOf('model').refresh();
      if (next) {
        await vscode.commands.executeCommand(COMMAND_IDS.setAlias, {
          kind: 'modelVersion',
          registry: 'model',
          version: v,
        } satisfies VersionNode);
      }
    }),
  ];
}
