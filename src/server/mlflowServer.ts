// The local MLflow-compatible tracking server: node:http on 127.0.0.1 only, MLflow's
// REST paths (under /api/2.0/mlflow/ and /ajax-api/2.0/mlflow/) and its artifact proxy,
// answered from core with MLflow's shapes and errors. Guards: an optional bearer token,
// loopback Host and Origin only (no DNS rebinding, no cross-site posts from a browser),
// and JSON bodies limited to MLflow's 1 MB.

import { createHash, timingSafeEqual } from 'node:crypto';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../core/log.ts';
import { silentLogger } from '../core/log.ts';
import type { Registry } from '../core/registry/registry.ts';
import type { Tracking } from '../core/tracking/tracking.ts';
import {
  ARTIFACTS_PREFIXES,
  deleteArtifact,
  downloadArtifact,
  listArtifacts,
  plainPathSegments,
  uploadArtifact,
  urlPathSegments,
} from './artifactProxy.ts';
import { invalidParameter, MlflowError, toMlflowError } from './errors.ts';
import { experimentRoutes } from './experimentRoutes.ts';
import { MetricBatcher } from './metricBatcher.ts';
import { registryRoutes } from './registryRoutes.ts';
import type { ApiVersion, JsonRoute, RouteContext } from './route.ts';
import { OtlpDecoder } from './otlp/otlpDecoder.ts';
import { handleTraceArtifact, traceArtifactPath } from './traceArtifacts.ts';
import { handleOtlpTraces, OTLP_TRACES_PATH } from './otlp/otlpRoute.ts';
import { traceRoutes } from './traceRoutes.ts';
import { runRoutes } from './runRoutes.ts';
import { parseJsonBody, queryArgs } from './schemas.ts';

export const DEFAULT_PORT = 5000;
/** With port fallback, the ports after the asked one that are tried. */
export const PORT_FALLBACK_RANGE = 20;
/** MLflow's MAX_BATCH_LOG_REQUEST_SIZE, applied to every JSON body. */
export const MAX_JSON_BODY_BYTES = 1_000_000;
/** A body declared larger than this is refused without reading it, and the connection closed. */
const MAX_DRAINED_BYTES = 64 << 20;

const API_PREFIXES: { prefix: string; version: ApiVersion }[] = [
  { prefix: '/api/2.0/mlflow/', version: '2.0' },
  { prefix: '/ajax-api/2.0/mlflow/', version: '2.0' },
  { prefix: '/api/3.0/mlflow/', version: '3.0' },
  { prefix: '/ajax-api/3.0/mlflow/', version: '3.0' },
];

/** What `GET /version` answers: the MLflow server version whose API this one follows. */
export const MLFLOW_COMPATIBLE_VERSION = '3.6.0';

/** A route path with `{name}` segments as a matcher of request paths. */
function pathPattern(path: string): RegExp {
  const body = path
    .split('/')
    .map((seg) =>
      /^\{\w+\}$/.test(seg)
        ? `(?<${seg.slice(1, -1)}>[^/]+)`
        : seg.replace(/[.*+?^$()|[\]\\]/g, '\\$&'),
    )
    .join('/');
  return new RegExp(`^${body}$`);
}
const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

export interface MlflowServerOptions {
  /**
   * The store, or a function that gives it: called on each request (it should answer at
   * once when the store is open), so the store opens on the first request and a store
   * that was closed and opened again is followed.
   */
  tracking: Tracking | (() => Promise<Tracking>);
  /** Default: the store's own registry. */
  registry?: Registry;
  /** Default 5000; 0 picks any free port. */
  port?: number;
  /** When the port is taken, try the next PORT_FALLBACK_RANGE ones (default true). */
  portFallback?: boolean;
  /** When set, every request needs `Authorization: Bearer <token>` (MLFLOW_TRACKING_TOKEN). */
  token?: string;
  logger?: Logger;
}

export interface MlflowServer {
  port: number;
  /** e.g. http://127.0.0.1:5000, the value for MLFLOW_TRACKING_URI. */
  url: string;
  /** The bound address (always 127.0.0.1). */
  address(): AddressInfo;
  /** Stops accepting requests, lets the ones in progress finish and their data land. */
  close(): Promise<void>;
}

/** No port of the allowed range was free. */
export class PortInUseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PortInUseError';
  }
}

function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(text),
  });
  res.end(text);
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

function hostnameOf(value: string): string | undefined {
  try {
    return new URL(value.includes('://') ? value : `http://${value}`).hostname.toLowerCase();
  } catch {
    return undefined;
  }
}

/**
 * Refuses requests that a web page could make: a Host other than loopback (a rebound
 * DNS name) or a cross-site Origin. MLflow clients send neither.
 */
function checkLocal(req: http.IncomingMessage): void {
  const host = req.headers.host;
  if (host !== undefined && !LOOPBACK_HOSTS.has(hostnameOf(host) ?? '')) {
    throw new MlflowError(
      'PERMISSION_DENIED',
      `Requests for host '${host}' are refused: this server answers only 127.0.0.1 and localhost.`,
    );
  }
  const origin = req.headers.origin;
  if (origin !== undefined && !LOOPBACK_HOSTS.has(hostnameOf(origin) ?? '')) {
    throw new MlflowError(
      'PERMISSION_DENIED',
      `Cross-site requests (Origin ${origin}) are refused by the local MLflow server.`,
    );
  }
}

function checkToken(req: http.IncomingMessage, res: http.ServerResponse, token: string): void {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
  // Digests have equal lengths, so the comparison says nothing about the token's length.
  if (!m || !timingSafeEqual(digest(m[1]!), digest(token))) {
    res.setHeader('WWW-Authenticate', 'Bearer');
    throw new MlflowError(
      'UNAUTHENTICATED',
      m
        ? 'The bearer token is not the one this server was started with.'
        : 'This server needs a token: set MLFLOW_TRACKING_TOKEN to the token given to `mlops serve --token`.',
    );
  }
}

function bodyTooLarge(size: number): MlflowError {
  return invalidParameter(
    `Requests must be at most ${MAX_JSON_BODY_BYTES} bytes (MLflow's limit for batched logging), got a request of size ${size}. Split it into smaller batches.`,
  );
}

/** The JSON body, up to the limit; a larger one is drained and refused. */
async function readBody(req: http.IncomingMessage, res: http.ServerResponse): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > MAX_DRAINED_BYTES) {
    res.setHeader('Connection', 'close');
    throw bodyTooLarge(declared);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size <= MAX_JSON_BODY_BYTES) chunks.push(chunk as Buffer);
    else if (size > MAX_DRAINED_BYTES) throw bodyTooLarge(size);
  }
  if (size > MAX_JSON_BODY_BYTES) throw bodyTooLarge(size);
  return Buffer.concat(chunks);
}

async function listen(server: http.Server, port: number, fallback: boolean): Promise<number> {
  const last = port !== 0 && fallback ? Math.min(port + PORT_FALLBACK_RANGE, 65_535) : port;
  for (let candidate = port; ; candidate++) {
    try {
      await new Promise<void>((resolve, reject) => {
        const onError = (e: Error): void => {
          server.off('listening', onListening);
          reject(e);
        };
        const onListening = (): void => {
          server.off('error', onError);
          resolve();
        };
        server.once('error', onError);
        server.once('listening', onListening);
        // Loopback only: the store is the user's, never the network's.
        server.listen(candidate, '127.0.0.1');
      });
      return (server.address() as AddressInfo).port;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw e;
      if (candidate >= last) {
        throw new PortInUseError(
          last === port
            ? `Port ${port} on 127.0.0.1 is in use; pass another --port, or --port 0 for any free one.`
            : `Ports ${port}-${last} on 127.0.0.1 are all in use; pass another --port, or --port 0 for any free one.`,
        );
      }
    }
  }
}

export async function startMlflowServer(options: MlflowServerOptions): Promise<MlflowServer> {
  const logger = options.logger ?? silentLogger;
  const source = options.tracking;
  let current: RouteContext | undefined;
  const otlpDecoder = new OtlpDecoder(logger);
  /** The route context for the store as it is now (a new one when the store was reopened). */
  async function context(): Promise<RouteContext> {
    const tracking = typeof source === 'function' ? await source() : source;
    if (current?.tracking !== tracking) {
      const previous = current;
      current = {
        tracking,
        registry: options.registry ?? tracking.registry,
        metrics: new MetricBatcher(tracking, logger),
        logger,
      };
      // Points queued against the store that closed are settled (written or refused).
      if (previous) void previous.metrics.idle();
    }
    return current;
  }
  const routes = new Map<string, JsonRoute>();
  const methodsByPath = new Map<string, string[]>();
  // Routes with path parameters, tried in order after the exact ones.
  const patterns: { version: ApiVersion; pattern: RegExp; route: JsonRoute }[] = [];
  for (const r of [...experimentRoutes, ...runRoutes, ...registryRoutes, ...traceRoutes]) {
    const version = r.version ?? '2.0';
    if (r.path.includes('{')) patterns.push({ version, pattern: pathPattern(r.path), route: r });
    for (const m of r.methods) {
      routes.set(`${m} ${version} ${r.path}`, r);
      const key = `${version} ${r.path}`;
      methodsByPath.set(key, [...(methodsByPath.get(key) ?? []), m]);
    }
  }

  function findRoute(
    method: string,
    version: ApiVersion,
    subPath: string,
  ): { route: JsonRoute; params: Record<string, string> } {
    const exact = routes.get(`${method} ${version} ${subPath}`);
    if (exact) return { route: exact, params: {} };
    let allowed = methodsByPath.get(`${version} ${subPath}`);
    for (const p of patterns) {
      if (p.version !== version) continue;
      const m = p.pattern.exec(subPath);
      if (!m) continue;
      if (p.route.methods.includes(method as never)) {
        const params: Record<string, string> = {};
        for (const [k, v] of Object.entries(m.groups ?? {})) params[k] = decodeURIComponent(v);
        return { route: p.route, params };
      }
      allowed ??= [...p.route.methods];
    }
    throw new MlflowError(
      'ENDPOINT_NOT_FOUND',
      allowed
        ? `The endpoint ${subPath} takes ${allowed.join(' or ')}, not ${method}.`
        : `No MLflow endpoint ${method} /api/${version}/mlflow/${subPath}.`,
    );
  }

  async function handleApi(
    method: string,
    version: ApiVersion,
    subPath: string,
    query: URLSearchParams,
    req: http.IncomingMessage,
    res: http.ServerResponse,
  ): Promise<void> {
    const found = findRoute(method, version, subPath);
    let args: unknown;
    if (method === 'GET') args = queryArgs(query);
    else {
      const body = await readBody(req, res);
      args = body.length === 0 ? queryArgs(query) : parseJsonBody(body.toString('utf8'));
    }
    if (Object.keys(found.params).length > 0) {
      args = { ...(typeof args === 'object' && args !== null ? args : {}), ...found.params };
    }
    sendJson(res, 200, await found.route.handle(args, await context()));
  }

  async function handleArtifacts(
    method: string,
    subPath: string,
    query: URLSearchParams,
    req: http.IncomingMessage,
    res: http.ServerResponse,
  ): Promise<void> {
    const ctx = await context();
    if (subPath === '' || subPath === '/') {
      if (method !== 'GET') {
        throw new MlflowError('ENDPOINT_NOT_FOUND', 'Listing artifacts takes GET.');
      }
      const p = query.get('path') ?? '';
      sendJson(res, 200, { files: listArtifacts(ctx.tracking, plainPathSegments(p), p) });
      return;
    }
    const raw = subPath.slice(1);
    const segments = urlPathSegments(raw);
    const traceArtifact = traceArtifactPath(segments);
    if (traceArtifact) {
      await handleTraceArtifact(method, traceArtifact, raw, req, res, ctx);
      return;
    }
    if (method === 'PUT') {
      await uploadArtifact(ctx.tracking, segments, raw, req);
      sendJson(res, 200, {});
    } else if (method === 'GET') {
      await downloadArtifact(ctx.tracking, segments, raw, res);
    } else if (method === 'DELETE') {
      await deleteArtifact(ctx.tracking, segments, raw);
      sendJson(res, 200, {});
    } else {
      throw new MlflowError(
        'ENDPOINT_NOT_FOUND',
        `Artifacts take GET, PUT or DELETE, not ${method}.`,
      );
    }
  }

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const started = performance.now();
    const method = (req.method ?? 'GET').toUpperCase();
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    // The path is matched as sent, never normalized: '..' must reach the checks, not vanish.
    const rawPath = q < 0 ? url : url.slice(0, q);
    const query = new URLSearchParams(q < 0 ? '' : url.slice(q + 1));
    try {
      checkLocal(req);
      if (options.token !== undefined) checkToken(req, res, options.token);
      const api = API_PREFIXES.find((p) => rawPath.startsWith(p.prefix));
      const artifacts = ARTIFACTS_PREFIXES.find(
        (p) => rawPath === p || rawPath.startsWith(`${p}/`),
      );
      if (rawPath === '/health' && method === 'GET') {
        // As MLflow's server: a probe for scripts and the extension.
        res.writeHead(200, { 'Content-Type': 'text/plain' }).end('OK');
      } else if (rawPath === '/version' && method === 'GET') {
        // MLflow answers its version as text; its client sends spans over OTLP from 3.4 on.
        res
          .writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8' })
          .end(MLFLOW_COMPATIBLE_VERSION);
      } else if (rawPath === OTLP_TRACES_PATH) {
        await handleOtlpTraces(method, req, res, await context(), logger, otlpDecoder);
      } else if (api) {
        await handleApi(method, api.version, rawPath.slice(api.prefix.length), query, req, res);
      } else if (artifacts) {
        await handleArtifacts(method, rawPath.slice(artifacts.length), query, req, res);
      } else throw new MlflowError('ENDPOINT_NOT_FOUND', `No endpoint ${method} ${rawPath}.`);
    } catch (e) {
      if (res.headersSent) {
        // A download cut short, usually by the client going away: nothing left to answer.
        logger.debug(`[server] ${method} ${rawPath} ended early: ${(e as Error).message}`);
        res.destroy();
      } else {
        const { error, internal } = toMlflowError(e);
        if (internal) logger.error(e instanceof Error ? e : String(e));
        sendJson(res, error.status, error.toJson());
      }
    }
    logger.debug(
      `[server] ${method} ${rawPath} ${res.statusCode} in ${Math.round(performance.now() - started)} ms`,
    );
  }

  const inFlight = new Set<Promise<void>>();
  const server = http.createServer((req, res) => {
    const work = handle(req, res).finally(() => inFlight.delete(work));
    inFlight.add(work);
  });
  const port = await listen(server, options.port ?? DEFAULT_PORT, options.portFallback ?? true);
  const url = `http://127.0.0.1:${port}`;
  logger.info(`[server] MLflow-compatible server listening on ${url}`);
  let closing: Promise<void> | undefined;
  return {
    port,
    url,
    address: () => server.address() as AddressInfo,
    close() {
      closing ??= (async () => {
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        await Promise.allSettled([...inFlight]);
        await current?.metrics.idle();
        await otlpDecoder.close();
        server.closeAllConnections();
        await closed;
        logger.info(`[server] stopped ${url}`);
      })();
      return closing;
    },
  };
}
