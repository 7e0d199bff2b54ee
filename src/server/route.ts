// What a JSON endpoint of the MLflow API is: its methods, its path under
// `/api/<version>/mlflow/` (with `{name}` segments for path parameters, which join the
// arguments), the zod schema of its arguments and the handler that calls core.

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

/** MLflow's REST API versions: most endpoints are 2.0; the v3 trace endpoints are 3.0. */
export type ApiVersion = '2.0' | '3.0';

export interface JsonRoute {
  methods: readonly HttpMethod[];
  /** Below the API prefix, e.g. 'runs/log-metric' or 'traces/{trace_id}/tags'. */
  path: string;
  /** Default '2.0'. */
  version?: ApiVersion;
  /** Validates the raw arguments, calls core, and resolves to the JSON answer. */
  handle(rawArgs: unknown, ctx: RouteContext): Promise<unknown>;
}

/** A route whose arguments are validated by `schema` before `handler` sees them. */
export function route<S extends z.ZodType>(
  methods: readonly HttpMethod[],
  path: string,
  schema: S,
  handler: (args: z.output<S>, ctx: RouteContext) => unknown,
  version: ApiVersion = '2.0',
): JsonRoute {
  return {
    methods,
    path,
    version,
    async handle(rawArgs, ctx) {
      return handler(parseArgs(schema, rawArgs), ctx);
    },
  };
}
