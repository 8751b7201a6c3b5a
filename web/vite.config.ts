/// <reference types="vitest/config" />
// Builds the client into dist/, which the server embeds (edge/src/http/web.rs).
// Everything goes to files with hashed names: nothing is inlined, so the
// server's Content-Security-Policy can forbid inline scripts and styles.
import { defineConfig } from 'vite';

export default defineConfig({
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    sourcemap: false,
    target: 'es2022',
  },
  test: {
    include: ['src/**/*.test.ts'],
    environment: 'node',
  },
});
