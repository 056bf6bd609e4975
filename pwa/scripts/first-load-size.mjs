// First load of the app shell: the entry script and its modulepreloads in dist/index.html plus
// registerSW.js (JavaScript, budget 150 KB gzipped), and the render-blocking stylesheets, which
// must carry no inline font (Vant's icon font is a file of its own, see vite.config.ts) and no
// third-party URL. Sizes raw and gzipped; exits non-zero when a rule is broken.
import fs from 'node:fs'
import zlib from 'node:zlib'
const dist = new URL('../dist/', import.meta.url)
const html = fs.readFileSync(new URL('index.html', dist), 'utf8')
const size = (files) => {
  let raw = 0
  let gz = 0
  for (const f of files) {
    const buf = fs.readFileSync(new URL(f, dist))
    const g = zlib.gzipSync(buf, { level: 9 }).length
    raw += buf.length
    gz += g
    console.log(`${f.padEnd(40)} ${(buf.length / 1024).toFixed(1).padStart(7)} KB  gzip ${(g / 1024).toFixed(1).padStart(6)} KB`)
  }
  return { raw, gz }
}
const js = size([...html.matchAll(/(?:src|href)="\/([^"]+\.js)"/g)].map((m) => m[1]))
console.log(`first-load JS: ${(js.raw / 1024).toFixed(1)} KB, gzip ${(js.gz / 1024).toFixed(1)} KB (budget 150 KB)`)
const sheets = [...html.matchAll(/<link rel="stylesheet"[^>]*href="\/([^"]+\.css)"/g)].map((m) => m[1])
const css = size(sheets)
console.log(`render-blocking CSS: ${(css.raw / 1024).toFixed(1)} KB, gzip ${(css.gz / 1024).toFixed(1)} KB`)
const broken = []
if (js.gz > 150 * 1024) broken.push('first-load JS over 150 KB gzipped')
for (const f of sheets) {
  const text = fs.readFileSync(new URL(f, dist), 'utf8')
  if (/url\(\s*["']?data:font/.test(text)) broken.push(`${f}: a font inlined as data: (it blocks the first paint)`)
  if (/url\(\s*["']?(https?:)?\/\//.test(text)) broken.push(`${f}: a URL on another host`)
}
for (const b of broken) console.error(`first load: ${b}`)
if (broken.length) process.exit(1)
