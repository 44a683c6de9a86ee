/**
 * The web UI's build: a single-page app under web/, written to dist/web,
 * which the master serves at `/`. `npm run dev:web` serves it with hot reload
 * and proxies the API to a master on SHEPHERD_MASTER (default
 * http://127.0.0.1:8010).
 */
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

const master = process.env.SHEPHERD_MASTER ?? 'http://127.0.0.1:8010';

export default defineConfig({
  root: import.meta.dirname,
  plugins: [react()],
  build: {
    outDir: '../dist/web',
    emptyOutDir: true,
    sourcemap: true,
    chunkSizeWarningLimit: 1024,
  },
  server: {
    // ws: debug sessions' WebSocket (/api/v1/builds/ID/debug) goes through too.
    proxy: { '/api': { target: master, ws: true }, '/metrics': master, '/health': master },
  },
});
