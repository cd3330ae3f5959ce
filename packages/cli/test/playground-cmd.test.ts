/**
 * `kvmlab playground`: bad ports and non-loopback hosts are usage errors (exit 2, one line);
 * a missing or unbuilt playground says how to get it; the server serves the app's files on
 * 127.0.0.1 and nothing outside its folder.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { playgroundAppDir, servePlayground } from '../src/commands/playground.js';
import { UsageError } from '../src/errors.js';
import { cli, expectUsageError } from './helpers.js';

describe('kvmlab playground', () => {
  it.each(['0', '65536', 'http', '80.5', '-1'])('--port %s is a usage error', async (port) => {
    expectUsageError(await cli(['playground', '--port', port], []), /port must be an integer from 1 to 65535/);
  });

  it.each(['0.0.0.0', '192.168.1.2', 'example.com'])('--host %s (not loopback) is a usage error', async (host) => {
    expectUsageError(await cli(['playground', '--host', host], []), /host must be a loopback address/);
  });

  it('a port in use is a usage error naming it', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as { port: number }).port;
    try {
      const dir = mkdtempSync(join(tmpdir(), 'kvmlab-pg-'));
      writeFileSync(join(dir, 'index.html'), '<!doctype html><title>x</title>');
      await expect(servePlayground(dir, '127.0.0.1', port)).rejects.toThrow(new RegExp(`port ${port} on 127.0.0.1 is in use`));
    } finally {
      blocker.close();
    }
  });

  it('without @kvmlab/playground installed it says how to install it', () => {
    const lonely = mkdtempSync(join(tmpdir(), 'kvmlab-no-pg-'));
    const from = pathToFileURL(join(lonely, 'x.js')).href;
    expect(() => playgroundAppDir(from)).toThrow(UsageError);
    expect(() => playgroundAppDir(from)).toThrow(/npm install @kvmlab\/playground/);
  });

  it('an installed but unbuilt playground says how to build it', () => {
    const root = mkdtempSync(join(tmpdir(), 'kvmlab-unbuilt-pg-'));
    const pkg = join(root, 'node_modules', '@kvmlab', 'playground');
    mkdirSync(pkg, { recursive: true });
    writeFileSync(join(pkg, 'package.json'), JSON.stringify({ name: '@kvmlab/playground', version: '0.0.0', exports: { './package.json': './package.json' } }));
    expect(() => playgroundAppDir(pathToFileURL(join(root, 'x.js')).href)).toThrow(/not built .*npm run build:app -w @kvmlab\/playground/);
  });

  it('serves the app folder on 127.0.0.1, and nothing outside it', async () => {
    const root = mkdtempSync(join(tmpdir(), 'kvmlab-serve-'));
    const dir = join(root, 'app');
    mkdirSync(join(dir, 'assets'), { recursive: true });
    writeFileSync(join(dir, 'index.html'), '<!doctype html><title>kvmlab playground</title>');
    writeFileSync(join(dir, 'assets', 'worker.js'), 'self.onmessage = () => {};');
    writeFileSync(join(root, 'secret.txt'), 'not served');
    const s = await servePlayground(dir, '127.0.0.1', 0);
    try {
      expect(s.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
      const index = await fetch(s.url);
      expect(index.status).toBe(200);
      expect(await index.text()).toContain('kvmlab playground');
      const js = await fetch(`${s.url}assets/worker.js`);
      expect(js.headers.get('content-type')).toMatch(/javascript/);
      expect((await fetch(`${s.url}../secret.txt`)).status).toBe(404);
      expect((await fetch(`${s.url}%2e%2e/secret.txt`)).status).toBe(404);
    } finally {
      await s.close();
    }
  });
});
