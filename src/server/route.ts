// What a JSON endpoint of the MLflow API is: its methods, its path under
// `/api/2.0/mlflow/`, the zod schema of its arguments and the handler that calls core.

import type { z } from 'zod';
import type { Logger } from '../core/log.ts';
import type { Registry } from '../core/registry/registry.ts';
import type { Tracking } from '../core/tracking/tracking.ts';
import type { MetricBatcher } from './metricBatcher.ts';
import { parseArgs } from './schemas.ts';

export type HttpMethod = 'GET' | 'POST' | 'PATCH' | 'DELETE';

export interface RouteContext {
  tracking: Tracking;
  registry: Registry;
  metrics: MetricBatcher;
  logger: Logger;
}

export interface JsonRoute {
  methods: readonly HttpMethod[];
  /** Below the API prefix, e.g. 'runs/log-metric'. */
  path: string;
  /** Validates the raw arguments, calls core, and resolves to the JSON answer. */
  handle(rawArgs: unknown, ctx: RouteContext): Promise<unknown>;
}

/** A route whose arguments are validated by `schema` before `handler` sees them. */
export function route<S extends z.ZodType>(
  methods: readonly HttpMethod[],
  path: string,
  schema: S,
  handler: (args: z.output<S>, ctx: RouteContext) => unknown,
): JsonRoute {
  return {
    methods,
    path,
    async handle(rawArgs, ctx) {
      return handler(parseArgs(schema, rawArgs), ctx);
    },
  };
}
