// The one way commands are registered: log, catch, and show a clear message.

import * as vscode from 'vscode';
import {
  AlreadyExistsError,
  NotFoundError,
  StoreError,
  ValidationError,
} from '../../core/model/errors.ts';
import { FilterError } from '../../core/model/errors.ts';
import type { CommandId } from '../commandIds.ts';

/** A message for the user about something they can do (select a run, trust the workspace). */
export class UserError extends Error {}

/** An error the user caused and can fix: shown without "unexpected". */
function isUserError(e: unknown): boolean {
  return (
    e instanceof UserError ||
    e instanceof ValidationError ||
    e instanceof NotFoundError ||
    e instanceof AlreadyExistsError ||
    e instanceof StoreError ||
    e instanceof FilterError
  );
}

export function registerCommand(
  id: CommandId,
  log: vscode.LogOutputChannel,
  fn: (...args: never[]) => unknown,
): vscode.Disposable {
  return vscode.commands.registerCommand(id, async (...args: unknown[]) => {
    log.debug(`[command] ${id}`);
    try {
      return await (fn as (...a: unknown[]) => unknown)(...args);
    } catch (e) {
      const err = e as Error;
      log.error(err);
      const message = isUserError(e)
        ? err.message
        : `${err.message} (unexpected; details in the MLOps Workbench log)`;
      // Not awaited: the notification resolves only when dismissed, and the command's
      // callers (keybindings, other extensions, tests) must not wait for that.
      void vscode.window
        .showErrorMessage(`MLOps: ${message.split('\n')[0]}`, 'Show Log')
        .then((choice) => {
          if (choice === 'Show Log') log.show();
        });
      return undefined;
    }
  });
}
