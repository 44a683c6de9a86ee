/**
 * Serving the web UI: the single-page app built into `dist/web` (by `npm run
 * build`) at `/`. Its files are served as they are; any other GET that
 * wants HTML and is not an API or protocol path gets `index.html`, so the
 * UI's own URLs (`/builds/12`) are shareable and survive a reload. Without
 * a built UI, `/` says how to build it.
 */
import { createReadStream, existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

/** Paths that belong to the API and the protocols, never to the UI. */
const NOT_UI = /^\/(api|worker|hooks|metrics|health)(\/|$|\?)/;

/**
 * Where the built UI is: `dist/web` next to the compiled master (`dist/src/...`),
 * or under the repository when running from sources (tests).
 */
export function findWebRoot(): string | null {
  const here = dirname(fileURLToPath(import.meta.url));
  for (const candidate of [resolve(here, '../../../web'), resolve(here, '../../../dist/web')]) {
    if (existsSync(join(candidate, 'index.html'))) return candidate;
  }
  return null;
}

/** Serves the UI from `root` (null: a page saying how to build it). */
export async function registerWebUi(app: FastifyInstance, root: string | null): Promise<void> {
  if (root === null) {
    app.get('/', async function uiMissing(_request, reply) {
      return reply
        .type('text/html; charset=utf-8')
        .send(
          '<!doctype html><title>Shepherd</title><p>The web UI is not built. Run <code>npm run build</code> and reload; the API is at <a href="/api/v1">/api/v1</a>.</p>',
        );
    });
    return;
  }
  await app.register(fastifyStatic, {
    root,
    prefix: '/',
    // index.html is served by `sendIndex`, never cached.
    index: false,
    wildcard: true,
    setHeaders(res, path) {
      // Vite puts a content hash in every asset's name: they never change.
      if (path.startsWith(join(root, 'assets'))) res.header('cache-control', 'public, max-age=31536000, immutable');
    },
  });
  app.get('/', async function uiIndex(_request, reply) {
    return sendIndex(reply, root);
  });
}

/**
 * `GET /worker/shepherd-worker.mjs`: the worker agent's one-file bundle
 * (`dist/shepherd-worker.mjs`, made by `npm run build`), so a volunteer or a
 * cloud instance fetches the agent from the master it will connect to.
 */
export function registerWorkerBundle(app: FastifyInstance): void {
  const found = workerBundlePath();
  app.get('/worker/shepherd-worker.mjs', async function workerBundle(_request, reply) {
    if (found === undefined) {
      return reply.code(404).type('text/plain; charset=utf-8').send('the worker bundle is not built: run `npm run build` on the master\n');
    }
    return reply.header('cache-control', 'no-cache').type('text/javascript; charset=utf-8').send(createReadStream(found));
  });
}
const BUNDLE = 'shepherd-worker.mjs';

/** The built agent bundle: next to the compiled master (dist/src/master/api), or under the repository when running from sources; undefined before `npm run build`. */
export function workerBundlePath(): string | undefined {
  const here = dirname(fileURLToPath(import.meta.url));
  return [resolve(here, '../../..', BUNDLE), resolve(here, '../../../dist', BUNDLE)].find((path) => existsSync(path));
}

function sendIndex(reply: FastifyReply, root: string): FastifyReply {
  // Never cached: it names the current (hashed) asset files.
  return reply.header('cache-control', 'no-cache').sendFile('index.html', root, { cacheControl: false });
}

/**
 * The not-found fallback: a GET that wants HTML, outside the API and the
 * protocols, is one of the UI's own URLs; answer with the app.
 */
export function uiFallback(root: string | null): (request: FastifyRequest, reply: FastifyReply) => boolean {
  return (request, reply) => {
    if (root === null || request.method !== 'GET' || NOT_UI.test(request.url)) return false;
    if (!(request.headers.accept ?? '').includes('text/html')) return false;
    void sendIndex(reply, root);
    return true;
  };
}
