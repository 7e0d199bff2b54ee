// Extension entry point. Activation stays cheap: the store (and sql.js) opens on
// first use (the Experiments view showing, or a command that needs it); a failure
// in activate is shown rather than swallowed.

import * as path from 'node:path';
import * as vscode from 'vscode';
import { setSqlWasmPath } from '../core/store/sqlite.ts';
import type { CommandContext } from './commands/context.ts';
import { registerCompareCommands } from './commands/compareCommands.ts';
import { registerDriftCommands } from './commands/driftCommands.ts';
import { registerEvalCommands } from './commands/evalCommands.ts';
import { registerRegistryCommands } from './commands/registryCommands.ts';
import { registerExperimentCommands } from './commands/experimentCommands.ts';
import { registerRunCommands } from './commands/runCommands.ts';
import { registerServerCommands } from './commands/serverCommands.ts';
import { registerStoreCommands } from './commands/storeCommands.ts';
import { registerTraceCommands } from './commands/traceCommands.ts';
import { PromptDocumentProvider } from './promptDocument.ts';
import { PromptLensProvider } from './promptLens.ts';
import { RunDocumentProvider } from './runDocument.ts';
import { TraceGuardrails } from './traceGuardrails.ts';
import { TrackingServerController } from './trackingServer.ts';
import { RegistryTree } from './views/registryTree.ts';
import { EvalsTree } from './views/evalsTree.ts';
import { TracesTree } from './views/tracesTree.ts';
import { EvalPanel } from './webviews/evalPanel.ts';
import { registerDriftPanelSerializer } from './webviews/driftPanel.ts';
import { ExperimentsTree } from './views/experimentsTree.ts';
import { WorkspaceStore } from './workspaceStore.ts';

/** What activate returns: used by the in-host tests. */
export interface ExtensionApi {
  store: WorkspaceStore;
  tree: ExperimentsTree;
}

export function activate(context: vscode.ExtensionContext): ExtensionApi | undefined {
  const started = performance.now();
  const log = vscode.window.createOutputChannel('MLOps Workbench', { log: true });
  context.subscriptions.push(log);
  try {
    setSqlWasmPath(path.join(context.extensionPath, 'dist', 'sql-wasm.wasm'));
    void vscode.commands.executeCommand('setContext', 'mlops.storeState', 'loading');
    const store = new WorkspaceStore(log);
    const tree = new ExperimentsTree(store, log, started);
    const ctx: CommandContext = { store, tree, log };
    const models = new RegistryTree(store, 'model');
    const prompts = new RegistryTree(store, 'prompt');
    const evals = new EvalsTree(store);
    const traces = new TracesTree(store, log);
    const panelDeps = { store, log, extensionUri: context.extensionUri };
    const server = new TrackingServerController(store, context.environmentVariableCollection, log);
    context.subscriptions.push(
      evals,
      traces,
      new TraceGuardrails(store, log, context.secrets),
      ...registerTraceCommands({
        ...ctx,
        traces,
        panels: {
          ...panelDeps,
          openEvalRun: (runId, focus) => EvalPanel.show(panelDeps, runId, focus),
        },
      }),
      store,
      tree,
      models,
      prompts,
      new RunDocumentProvider(store),
      new PromptDocumentProvider(store),
      new PromptLensProvider(store),
      ...registerRegistryCommands({ ...ctx, models, prompts }),
      ...registerStoreCommands(ctx),
      ...registerExperimentCommands(ctx),
      ...registerRunCommands(ctx),
      ...registerCompareCommands(ctx, context.extensionUri),
      ...registerEvalCommands({
        ...ctx,
        evals,
        secrets: context.secrets,
        extensionUri: context.extensionUri,
      }),
      ...registerDriftCommands(ctx, context.extensionUri),
      registerDriftPanelSerializer({ store, log, extensionUri: context.extensionUri }),
      server,
      ...registerServerCommands(server, ctx),
    );
    log.info(`[extension] activated in ${Math.round(performance.now() - started)} ms`);
    return { store, tree };
  } catch (e) {
    log.error(e as Error);
    void vscode.window.showErrorMessage(`MLOps Workbench failed to start: ${(e as Error).message}`);
    return undefined;
  }
}

export function deactivate(): void {}
