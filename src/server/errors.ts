// MLflow's error answers: `{"error_code": ..., "message": ...}` with the HTTP status
// MLflow gives each code (mlflow/exceptions.py), and the mapping of core errors to them.

import {
  AlreadyExistsError,
  NotFoundError,
  StoreError,
  ValidationError,
} from '../core/model/errors.ts';
import { FilterError } from '../core/model/errors.ts';

export type MlflowErrorCode =
  | 'INVALID_PARAMETER_VALUE'
  | 'RESOURCE_DOES_NOT_EXIST'
  | 'RESOURCE_ALREADY_EXISTS'
  | 'ENDPOINT_NOT_FOUND'
  | 'INVALID_STATE'
  | 'UNAUTHENTICATED'
  | 'PERMISSION_DENIED'
  | 'NOT_IMPLEMENTED'
  | 'INTERNAL_ERROR';

const HTTP_STATUS: Record<MlflowErrorCode, number> = {
  INVALID_PARAMETER_VALUE: 400,
  RESOURCE_ALREADY_EXISTS: 400,
  RESOURCE_DOES_NOT_EXIST: 404,
  ENDPOINT_NOT_FOUND: 404,
  UNAUTHENTICATED: 401,
  PERMISSION_DENIED: 403,
  NOT_IMPLEMENTED: 501,
  INVALID_STATE: 500,
  INTERNAL_ERROR: 500,
};

/** An error the server answers as MLflow would. */
export class MlflowError extends Error {
  readonly status: number;

  constructor(
    readonly errorCode: MlflowErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'MlflowError';
    this.status = HTTP_STATUS[errorCode];
  }

  toJson(): { error_code: MlflowErrorCode; message: string } {
    return { error_code: this.errorCode, message: this.message };
  }
}

export function invalidParameter(message: string): MlflowError {
  return new MlflowError('INVALID_PARAMETER_VALUE', message);
}

export function missingParameter(name: string): MlflowError {
  return invalidParameter(`Missing value for required parameter '${name}'.`);
}

export function notFound(message: string): MlflowError {
  return new MlflowError('RESOURCE_DOES_NOT_EXIST', message);
}

/**
 * The MLflow error for anything a handler throws. `internal` is true when the error
 * is not one the core raises on purpose: its stack belongs in the log, and the client
 * gets a message without internals.
 */
export function toMlflowError(e: unknown): { error: MlflowError; internal: boolean } {
  if (e instanceof MlflowError) return { error: e, internal: false };
  if (e instanceof ValidationError || e instanceof FilterError) {
    return { error: invalidParameter(e.message), internal: false };
  }
  if (e instanceof NotFoundError) return { error: notFound(e.message), internal: false };
  if (e instanceof AlreadyExistsError) {
    return { error: new MlflowError('RESOURCE_ALREADY_EXISTS', e.message), internal: false };
  }
  if (e instanceof StoreError) {
    // A read-only or closed store, or a damaged file: the message says which and what to do.
    return { error: new MlflowError('INTERNAL_ERROR', e.message), internal: true };
  }
  return {
    error: new MlflowError(
      'INTERNAL_ERROR',
      'The server hit an unexpected error; its log has the details.',
    ),
    internal: true,
  };
}
