// A tiny same-origin server for tests: serves pwa/dist (index.html fallback for client routes,
// sw.js and index.html uncached, hashed assets immutable) and proxies the API to permitd,
// keeping the Host header so permitd's same-origin check passes. It is what permitd itself
// must do when it embeds pwa/dist.
import http from 'node:http'
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const BUILT = path.resolve(fileURLToPath(new URL('../dist/', import.meta.url)))
const TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.css': 'text/css', '.png': 'image/png', '.svg': 'image/svg+xml', '.webmanifest': 'application/manifest+json', '.json': 'application/json', '.woff2': 'font/woff2', '.ico': 'image/x-icon' }
const PROXIED = /^\/(api\/|healthz|readyz|openapi\.json|docs|metrics)/

// `dist`: another build to serve (the pinned-root test builds one of its own).
export function startServer({ port = 0, upstream, dist = BUILT }) {
  const DIST = path.resolve(dist)
  const up = new URL(upstream)
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://x')
    if (PROXIED.test(url.pathname)) {
      const p = http.request(
        { host: up.hostname, port: up.port, method: req.method, path: req.url, headers: req.headers },
        (r) => {
          res.writeHead(r.statusCode ?? 502, r.headers)
          r.pipe(res)
        },
      )
      p.on('error', () => {
        res.writeHead(502, { 'content-type': 'application/json' })
        res.end(JSON.stringify({ code: 'upstream', message: 'permitd unreachable' }))
      })
      req.pipe(p)
      return
    }
    let file = path.join(DIST, decodeURIComponent(url.pathname))
    if (!file.startsWith(DIST)) file = path.join(DIST, 'index.html')
    if (!fs.existsSync(file) || fs.statSync(file).isDirectory()) file = path.join(DIST, 'index.html')
    const base = path.basename(file)
    const cache = base === 'index.html' || base === 'sw.js' || base === 'registerSW.js' || base.endsWith('.webmanifest')
      ? 'no-cache'
      : file.includes(`${path.sep}assets${path.sep}`) ? 'public, max-age=31536000, immutable' : 'public, max-age=3600'
    res.writeHead(200, { 'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream', 'cache-control': cache })
    fs.createReadStream(file).pipe(res)
  })
  return new Promise((resolve) => server.listen(port, '127.0.0.1', () => resolve(server)))
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const upstream = process.env.PERMITD_URL ?? 'http://127.0.0.1:8090'
  const port = Number(process.env.PORT ?? 4173)
  startServer({ port, upstream }).then(() => console.log(`serving pwa/dist on http://127.0.0.1:${port} → ${upstream}`))
}
