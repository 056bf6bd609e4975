// The public screens (no account needed) in large text and at 200 % zoom, zh-CN and en:
// `node e2e/layout-screens.mjs` with PERMITD=/path/to/permitd (demo mode, temp data dir) and
// optionally DIST=another/pwa/dist. The signed-in screens are checked in run.mjs's journey.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import net from 'node:net'
import { spawn } from 'node:child_process'
import { chromium, devices } from 'playwright-core'
import { startServer } from './serve.mjs'
import { layoutProblems } from './layout.mjs'

const ROOT = path.resolve(new URL('..', import.meta.url).pathname)
const OUT = path.resolve(process.env.SCREENSHOTS ?? path.join(ROOT, '..', 'test-output', 'pwa'))
fs.mkdirSync(OUT, { recursive: true })
const freePort = () => new Promise((r) => { const s = net.createServer(); s.listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => r(p)) }) })
const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

const port = await freePort()
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'permitd-layout-'))
const permitd = spawn(path.resolve(process.env.PERMITD), [], {
  env: { ...process.env, PERMIT_DEMO: 'true', PERMIT_DATA_DIR: dataDir, PERMIT_LISTEN: `127.0.0.1:${port}` },
  stdio: ['ignore', fs.openSync(path.join(OUT, 'permitd-layout.log'), 'w'), 'inherit'],
})
let failed = 0
try {
  const upstream = `http://127.0.0.1:${port}`
  for (let i = 0; ; i++) {
    try { if ((await fetch(upstream + '/healthz')).ok) break } catch { /* not yet */ }
    if (i > 150) throw new Error('permitd did not become healthy')
    await sleep(200)
  }
  const appPort = await freePort()
  const server = await startServer({ port: appPort, upstream, ...(process.env.DIST ? { dist: process.env.DIST } : {}) })
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium', args: ['--no-sandbox', '--disable-dev-shm-usage'] })
  const device = devices['Pixel 7'] ?? devices['Pixel 5']
  const screens = [['home', '/'], ['points', '/points'], ['guides', '/articles/guide'], ['policy', '/articles/policy'], ['login', '/login'], ['register', '/register'], ['me', '/me'], ['eligibility', '/eligibility']]
  for (const locale of ['zh-CN', 'en']) {
    const ctx = await browser.newContext({ ...device, viewport: { width: 360, height: 780 } })
    const page = await ctx.newPage()
    await page.goto(`http://localhost:${appPort}/`)
    await page.evaluate((locale) => localStorage.setItem('permit.prefs', JSON.stringify({ locale, largeText: true })), locale)
    const list = [...screens]
    for (const [name, url] of list) {
      await page.goto(`http://localhost:${appPort}${url}`)
      await page.waitForLoadState('networkidle')
      await page.waitForTimeout(300)
      const found = (await layoutProblems(page, { scope: 'body' })).map((p) => `large text: ${p}`)
      await page.screenshot({ path: path.join(OUT, `layout-${name}-${locale}-large.png`), fullPage: true })
      await page.evaluate(() => { document.documentElement.style.zoom = '2' })
      await page.waitForTimeout(200)
      found.push(...(await layoutProblems(page, { scope: 'body', targets: false })).map((p) => `200 %: ${p}`))
      await page.screenshot({ path: path.join(OUT, `layout-${name}-${locale}-large-200.png`), fullPage: true })
      // The first guide or policy article is checked too.
      if (name === 'guides') {
        const href = await page.locator('[data-testid=article-row]').first().getAttribute('href').catch(() => null)
        if (href) list.push(['article', href.replace(/^.*#/, '')])
      }
      console.log(`${found.length ? 'FAIL' : 'ok  '} ${locale} ${name}`)
      for (const p of found.slice(0, 25)) console.log(`     ${p}`)
      if (found.length) failed++
    }
    await ctx.close()
  }
  await browser.close()
  server.close?.()
} finally {
  permitd.kill('SIGTERM')
  fs.rmSync(dataDir, { recursive: true, force: true })
}
console.log(failed ? `${failed} screen(s) with layout problems` : 'all screens pass')
process.exit(failed ? 1 : 0)
