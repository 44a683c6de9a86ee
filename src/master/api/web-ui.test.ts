import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpServer } from './server.js';
import { createTestControl, type TestControl } from './test-control.js';

let control: TestControl;
let app: FastifyInstance;
let bare: FastifyInstance;

beforeAll(async () => {
  const root = mkdtempSync(join(tmpdir(), 'shepherd-web-'));
  mkdirSync(join(root, 'assets'));
  writeFileSync(join(root, 'index.html'), '<!doctype html><div id="root"></div>');
  writeFileSync(join(root, 'assets', 'index-abc123.js'), 'console.log(1)');
  control = await createTestControl();
  app = await createHttpServer(control, { logger: false, registry: new Registry(), onWorkerSocket: (s) => s.close(), webRoot: root });
  bare = await createHttpServer(control, { logger: false, registry: new Registry(), onWorkerSocket: (s) => s.close(), webRoot: null });
});
afterAll(async () => {
  await app.close();
  await bare.close();
  await control.close();
});

describe('the web UI', () => {
  it('serves the app at / and for its own URLs, so they survive a reload', async () => {
    for (const url of ['/', '/builds/12', '/builders/unix-tests?tab=x', '/workers/linux-1']) {
      const response = await app.inject({ method: 'GET', url, headers: { accept: 'text/html,*/*' } });
      expect(response.statusCode, url).toBe(200);
      expect(response.body).toContain('<div id="root">');
      expect(response.headers['cache-control']).toBe('no-cache');
    }
  });

  it('serves hashed assets as immutable', async () => {
    const response = await app.inject({ method: 'GET', url: '/assets/index-abc123.js' });
    expect(response.statusCode).toBe(200);
    expect(response.headers['cache-control']).toContain('immutable');
  });

  it('keeps API and protocol paths out of the fallback', async () => {
    for (const url of ['/api/v1/nope', '/hooks/x', '/metricsx/../api']) {
      const response = await app.inject({ method: 'GET', url: url === '/metricsx/../api' ? '/api' : url, headers: { accept: 'text/html' } });
      expect(response.statusCode).toBe(404);
      expect(response.json().error.code).toBe('SHEPHERD_E_NOT_FOUND');
    }
    expect((await app.inject({ method: 'GET', url: '/builds/12', headers: { accept: 'application/json' } })).statusCode).toBe(404);
    expect((await app.inject({ method: 'GET', url: '/api/v1/builders' })).statusCode).toBe(200);
  });

  it('says how to build the UI when it is not built', async () => {
    const response = await bare.inject({ method: 'GET', url: '/' });
    expect(response.statusCode).toBe(200);
    expect(response.body).toContain('npm run build');
  });
});
