import { defineConfig } from 'vite'
import vue from '@vitejs/plugin-vue'
import Components from 'unplugin-vue-components/vite'
import { VantResolver } from '@vant/auto-import-resolver'
import { VitePWA } from 'vite-plugin-pwa'
import VueI18nPlugin from '@intlify/unplugin-vue-i18n/vite'
import type { Plugin } from 'vite'
import fs from 'node:fs'
import path from 'node:path'
import zlib from 'node:zlib'

// Vant's icon font ships inline in its CSS as a 34 KB base64 woff2, with two fallbacks on a
// third-party CDN over plain http. Inline, it sits in the render-blocking stylesheet of every
// first load; here it becomes a file of its own, fetched only when an icon is drawn, and the
// CDN fallbacks go (every browser we serve reads woff2; a CDN must not be asked).
const vantIconFont = (): Plugin => ({
  name: 'permit:vant-icon-font',
  enforce: 'pre',
  transform(code, id) {
    if (!id.includes('vant') || !/\.css($|\?)/.test(id) || !code.includes('vant-icon')) return null
    const out = code
      .replace(/,\s*url\([^)]*alicdn[^)]*\)\s*format\([^)]*\)/g, '')
      .replace(/url\(data:font\/woff2;charset=utf-8;base64,([A-Za-z0-9+/=]+)\)/, (_m, b64: string) => {
        const file = path.resolve('node_modules/.cache/permit/vant-icon.woff2')
        fs.mkdirSync(path.dirname(file), { recursive: true })
        fs.writeFileSync(file, Buffer.from(b64, 'base64'))
        return `url(${JSON.stringify(path.relative(path.dirname(id.split('?')[0]!), file))})`
      })
    return out === code ? null : { code: out, map: null }
  },
})

// permitd embeds dist/ and serves `<file>.br` or `<file>.gz` when the browser accepts them,
// so text assets are compressed once here, at the highest levels, instead of on every request.
const precompress = (): Plugin => {
  let outDir = path.resolve('dist')
  return {
    name: 'permit:precompress',
    apply: 'build',
    enforce: 'post',
    configResolved(config) {
      outDir = path.resolve(config.root, config.build.outDir)
    },
    closeBundle() {
      const walk = (dir: string): string[] =>
        fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(path.join(dir, e.name)) : [path.join(dir, e.name)]))
      for (const file of walk(outDir)) {
        if (!/\.(js|mjs|css|html|svg|json|webmanifest|wasm)$/.test(file)) continue
        const data = fs.readFileSync(file)
        if (data.length < 1024) continue
        const br = zlib.brotliCompressSync(data, { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 11, [zlib.constants.BROTLI_PARAM_SIZE_HINT]: data.length } })
        const gz = zlib.gzipSync(data, { level: 9 })
        if (br.length < data.length * 0.9) fs.writeFileSync(file + '.br', br)
        if (gz.length < data.length * 0.9) fs.writeFileSync(file + '.gz', gz)
      }
    },
  }
}

// The API server (permitd). The proxy keeps the Host header so permitd's same-origin check
// (Origin must equal http://<Host>) accepts state-changing requests.
const api = process.env.PERMITD_URL ?? 'http://127.0.0.1:8090'
const proxy = {
  '/api': { target: api, changeOrigin: false },
  '/healthz': { target: api, changeOrigin: false },
  '/openapi.json': { target: api, changeOrigin: false },
}

// The scanner's pinned trust root (see src/lib/offlineVerify.ts): a malformed one fails the build.
const trustRoot = {
  name: 'trust-root',
  configResolved(config: { env: Record<string, string | undefined> }) {
    const root = config.env.VITE_TRUST_ROOT?.trim()
    if (root && !/^[0-9a-fA-F]{64}$/.test(root)) throw new Error('VITE_TRUST_ROOT must be the root public key as 64 hex characters (`permitd keys show`)')
  },
}

export default defineConfig({
  plugins: [
    vantIconFont(),
    // <altcha-widget> is a web component, not a Vue component.
    vue({ template: { compilerOptions: { isCustomElement: (tag) => tag === 'altcha-widget' } } }),
    trustRoot,
    // The locale files are compiled at build time, so the browser gets vue-i18n's runtime
    // without its message compiler and never parses a message. Vitest reads them as plain
    // objects, to compare screens against the very strings.
    ...(process.env.VITEST ? [] : [VueI18nPlugin({ include: [path.resolve('src/locales/**')], runtimeOnly: true, dropMessageCompiler: true, strictMessage: true })]),
    // Vant components are imported on demand (component + its CSS) from templates.
    Components({ resolvers: [VantResolver()], dts: false }),
    VitePWA({
      registerType: 'autoUpdate',
      injectRegister: 'script',
      filename: 'sw.js',
      includeAssets: ['icons/favicon.png', 'icons/icon-192.png'],
      manifest: {
        name: '居住证服务',
        short_name: '居住证',
        description: '居住证服务平台：居住登记、居住证申领、预约办理、电子居住证',
        lang: 'zh-CN',
        start_url: '/',
        scope: '/',
        display: 'standalone',
        orientation: 'portrait',
        background_color: '#f7f8fa',
        theme_color: '#0b4fa3',
        icons: [
          { src: '/icons/icon-192.png', sizes: '192x192', type: 'image/png', purpose: 'any' },
          { src: '/icons/icon-512.png', sizes: '512x512', type: 'image/png', purpose: 'any' },
          { src: '/icons/maskable-512.png', sizes: '512x512', type: 'image/png', purpose: 'maskable' },
        ],
      },
      workbox: {
        globPatterns: ['**/*.{js,css,html,png,svg,woff2,wasm}'],
        navigateFallback: '/index.html',
        navigateFallbackDenylist: [/^\/api\//, /^\/docs/, /^\/openapi\.json/, /^\/healthz/, /^\/readyz/, /^\/metrics/],
        cleanupOutdatedCaches: true,
        runtimeCaching: [
          {
            // Public information stays readable offline: service points, regions, policies, guides.
            urlPattern: ({ url }) =>
              /^\/api\/v1\/(service-points|articles|regions)(\/|$|\?)/.test(url.pathname + url.search),
            handler: 'NetworkFirst',
            method: 'GET',
            options: {
              cacheName: 'public-info',
              networkTimeoutSeconds: 4,
              expiration: { maxEntries: 300, maxAgeSeconds: 30 * 24 * 3600 },
              cacheableResponse: { statuses: [200] },
            },
          },
        ],
      },
    }),
    precompress(),
  ],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2020',
    assetsDir: 'assets',
    sourcemap: false,
    // Vant's per-component code would otherwise come as dozens of sub-kilobyte shared chunks,
    // each a request on a phone's slow connection; chunks under 20 kB are merged into others.
    rollupOptions: { output: { experimentalMinChunkSize: 20_000 } },
  },
  server: { host: '127.0.0.1', port: 5173, proxy },
  preview: { host: '127.0.0.1', port: 4173, proxy },
  test: {
    environment: 'jsdom',
    include: ['tests/**/*.test.ts'],
    server: { deps: { inline: ['vant'] } },
  },
} as any)
