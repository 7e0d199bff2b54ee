// `mlops serve`: the store behind MLflow's REST API on 127.0.0.1, so that training
// scripts using the MLflow client log into the workspace (MLFLOW_TRACKING_URI).

import { Tracking } from '../../core/tracking/tracking.ts';
import { DEFAULT_PORT, PortInUseError, startMlflowServer } from '../../server/mlflowServer.ts';
import type { CommandContext, CommandSpec } from '../context.ts';
import { EXIT_OK, EXIT_USAGE } from '../context.ts';

/** Resolves at the first SIGINT or SIGTERM; a second one ends the process as usual. */
function untilSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const stop = (signal: NodeJS.Signals): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve(signal);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

/** Runs the server until `waitForStop` resolves; then lets requests finish and closes the store. */
export async function runServe(
  ctx: CommandContext,
  waitForStop: () => Promise<unknown> = untilSignal,
): Promise<number> {
  const port = ctx.int('port') ?? DEFAULT_PORT;
  if (port < 0 || port > 65_535) throw ctx.usage(`--port takes 0 to 65535 (got ${port})`);
  const token = ctx.str('token') ?? ctx.io.env.MLOPS_TOKEN;
  if (token !== undefined && !/^\S+$/.test(token)) {
    throw ctx.usage('--token takes a non-empty token without spaces');
  }
  // Watching: the extension and other processes write to the same store meanwhile.
  const tracking = await Tracking.open({
    dir: ctx.storeDir(),
    logger: ctx.logger,
    watch: true,
    codeRoot: ctx.io.cwd,
  });
  try {
    let server;
    try {
      server = await startMlflowServer({
        tracking,
        registry: tracking.registry,
        port,
        portFallback: !ctx.bool('strict-port'),
        token,
        logger: ctx.logger,
      });
    } catch (e) {
      if (!(e instanceof PortInUseError)) throw e;
      ctx.io.err(`mlops serve: ${e.message}\n`);
      return EXIT_USAGE;
    }
    const stopped = waitForStop();
    if (ctx.json) {
      ctx.io.out(
        `${JSON.stringify({ url: server.url, port: server.port, store: tracking.store.dir })}\n`,
      );
    } else {
      ctx.io.out(
        `MLflow-compatible server for ${tracking.store.dir} on ${server.url} (Ctrl+C to stop).\n` +
          (server.port !== port && port !== 0
            ? `Port ${port} was taken; using ${server.port}.\n`
            : '') +
          `In the shell of your training script:\n\n` +
          `export MLFLOW_TRACKING_URI=${server.url}\n` +
          (token !== undefined
            ? `export MLFLOW_TRACKING_TOKEN=<the token given to mlops serve>\n`
            : ''),
      );
    }
    await stopped;
    ctx.io.err('Stopping: finishing requests in progress...\n');
    await server.close();
  } finally {
    await tracking.close();
  }
  return EXIT_OK;
}

export const serveCommand: CommandSpec = {
  name: 'serve',
  usage: 'mlops serve [--port 5000] [--strict-port] [--token <token>] [--json]',
  summary: 'Serve the store over the MLflow REST API on 127.0.0.1 for MLflow clients.',
  details:
    '  --port <n>       port on 127.0.0.1 (default 5000; 0 picks a free one)\n' +
    '  --strict-port    fail when the port is taken instead of trying the next 20\n' +
    '  --token <t>      require `Authorization: Bearer <t>` (clients: MLFLOW_TRACKING_TOKEN);\n' +
    '                   default $MLOPS_TOKEN, which other users cannot see in the process list\n' +
    '  --json           print {url, port, store} as one JSON line\n' +
    'Runs until Ctrl+C (SIGINT) or SIGTERM, then finishes requests in progress and closes the store.\n' +
    'Example: mlops serve --port 5000, then `export MLFLOW_TRACKING_URI=http://127.0.0.1:5000` and run the script.',
  options: {
    port: { type: 'string' },
    'strict-port': { type: 'boolean' },
    token: { type: 'string' },
  },
  run: (ctx) => runServe(ctx),
};
