// First-load JavaScript of the app shell: the entry script and its modulepreloads in
// dist/index.html, plus registerSW.js; sizes raw and gzipped.
import fs from 'node:fs'
import zlib from 'node:zlib'
const dist = new URL('../dist/', import.meta.url)
const html = fs.readFileSync(new URL('index.html', dist), 'utf8')
const files = [...html.matchAll(/(?:src|href)="\/([^"]+\.js)"/g)].map((m) => m[1])
let raw = 0
let gz = 0
for (const f of files) {
  const buf = fs.readFileSync(new URL(f, dist))
  const g = zlib.gzipSync(buf, { level: 9 }).length
  raw += buf.length
  gz += g
  console.log(`${f.padEnd(40)} ${(buf.length / 1024).toFixed(1).padStart(7)} KB  gzip ${(g / 1024).toFixed(1).padStart(6)} KB`)
}
console.log(`first-load JS: ${(raw / 1024).toFixed(1)} KB, gzip ${(gz / 1024).toFixed(1)} KB (budget 150 KB)`)
if (gz > 150 * 1024) process.exit(1)
