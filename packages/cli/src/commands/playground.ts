/**
 * `kvmlab playground`: serve the built browser playground (@kvmlab/playground's app/ folder)
 * on localhost with sirv and print its URL. The playground is resolved at run time — it is not
 * a dependency of the CLI (it is built from the CLI's report sources) — so a missing or
 * unbuilt playground is a one-line usage error saying how to get it.
 */
import { existsSync } from 'node:fs';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import type { CliContext } from '../context.js';
import { UsageError } from '../errors.js';

const PLAYGROUND_PACKAGE = '@kvmlab/playground';
const LOCAL_HOSTS: ReadonlySet<string> = new Set(['127.0.0.1', 'localhost', '::1']);

export function parsePort(text: string): number {
  if (!/^\d+$/.test(text.trim()) || Number(text) < 1 || Number(text) > 65535) throw new InvalidArgumentError('port must be an integer from 1 to 65535.');
  return Number(text);
}

export function parseHost(text: string): string {
  if (!LOCAL_HOSTS.has(text.trim())) throw new InvalidArgumentError(`host must be a loopback address (${[...LOCAL_HOSTS].join(', ')}): the playground is served on this machine only.`);
  return text.trim();
}

/** The built app's folder, or a UsageError saying how to install or build it. */
export function playgroundAppDir(from: string = import.meta.url): string {
  let pkg: string;
  try {
    pkg = createRequire(from).resolve(`${PLAYGROUND_PACKAGE}/package.json`);
  } catch {
    throw new UsageError(`the playground is not installed: npm install ${PLAYGROUND_PACKAGE} (or run "npm run playground" in the kvmlab repository)`);
  }
  const app = join(dirname(pkg), 'app');
  if (!existsSync(join(app, 'index.html'))) throw new UsageError(`the playground is not built (no ${join(app, 'index.html')}): npm run build:app -w ${PLAYGROUND_PACKAGE}`);
  return app;
}

export interface Served {
  readonly url: string;
  readonly close: () => Promise<void>;
}

export async function servePlayground(dir: string, host: string, port: number): Promise<Served> {
  const { default: sirv } = await import('sirv');
  const handler = sirv(dir, { etag: true, single: false });
  const server = createServer((req, res) => handler(req, res, () => {
    res.statusCode = 404;
    res.end('not found');
  }));
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) => reject(e.code === 'EADDRINUSE' ? new UsageError(`port ${port} on ${host} is in use (choose another with --port)`) : e));
    server.listen(port, host, resolve);
  });
  const addr = server.address();
  const actual = typeof addr === 'object' && addr !== null ? addr.port : port;
  const shown = host.includes(':') ? `[${host}]` : host;
  return { url: `http://${shown}:${actual}/`, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

export function registerPlayground(program: Command, ctx: CliContext): void {
  program
    .command('playground')
    .description('serve the browser playground on localhost: compose, run and step through every scenario (offline)')
    .option('--port <n>', 'port (1-65535)', parsePort, 5199)
    .option('--host <addr>', 'loopback address to listen on', parseHost, '127.0.0.1')
    .action(async (opts: { port: number; host: string }) => {
      const served = await servePlayground(playgroundAppDir(), opts.host, opts.port);
      ctx.io.out(`kvmlab playground: ${served.url}  (Ctrl-C to stop)\n`);
      // Serve until interrupted.
      await new Promise<void>((resolve) => {
        const stop = (): void => void served.close().then(resolve);
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
    });
}
