// Lighthouse audit of the built PWA served by a running permitd.
//
//   cd pwa/perf && npm ci && node lighthouse.mjs
//
// Expects a demo-mode permitd at BASE (default http://localhost:8095) serving the embedded
// pwa/dist, started with PERMIT_WEBAUTHN_ORIGIN equal to BASE (permitd refuses state-changing
// requests from other origins, and PERMIT_WEBAUTHN_RP_ID=127.0.0.1 is rejected at startup, so
// use localhost), e.g.
//
//   cd /work/main && PERMIT_DEMO=true PERMIT_DATA_DIR=$(mktemp -d) PERMIT_LISTEN=127.0.0.1:8095 \
//     PERMIT_WEBAUTHN_ORIGIN=http://localhost:8095 PERMIT_WEBAUTHN_RP_ID=localhost ./target/debug/permitd
//
// Uses Debian's Chromium (CHROME_PATH, default /usr/bin/chromium) through chrome-launcher; never
// downloads a browser. Mobile form factor with Lighthouse's default emulation and simulated
// throttling; categories performance, accessibility and best-practices.
// Pages marked `auth` are audited signed in: SIGN_IN=resident (default) registers a fresh
// resident through the API (proof of work, demo SMS sink; the first-login SMS code needs a
// ~60 s wait), SIGN_IN=admin uses the demo staff account, SIGN_IN=none audits signed out (auth
// pages then redirect to /login). The session cookie goes in Lighthouse's extraHeaders.
// SERVER_NOTE (e.g. "debug build") is copied into results.md.
// Prints a markdown table; writes it with the environment and the failing audits to results.md,
// and the full JSON reports to reports/.
import { writeFileSync, mkdirSync } from 'node:fs'
import { execFileSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { dirname, join } from 'node:path'
import os from 'node:os'
import { createHash } from 'node:crypto'
import lighthouse from 'lighthouse'
import * as chromeLauncher from 'chrome-launcher'

const here = dirname(fileURLToPath(import.meta.url))
const BASE = (process.env.BASE ?? 'http://localhost:8095').replace(/\/$/, '')
const CHROME = process.env.CHROME_PATH ?? '/usr/bin/chromium'
// resident (default): register a fresh resident through the API; admin: the demo staff account;
// none: audit every page signed out (auth pages then redirect to /login).
const SIGN_IN = process.env.SIGN_IN ?? 'resident'
const SERVER_NOTE = process.env.SERVER_NOTE ?? ''
const CATEGORIES = ['performance', 'accessibility', 'best-practices']

const PAGES = [
  { name: 'Home', path: '/' },
  { name: 'Application wizard', path: '/apply/new', auth: true },
  { name: 'Wallet', path: '/wallet', auth: true },
]

const api = async (path, { method = 'GET', body, cookie } = {}) => {
  // The server checks Origin on state-changing requests against PERMIT_WEBAUTHN_ORIGIN.
  const headers = { 'content-type': 'application/json', origin: process.env.ORIGIN ?? BASE, ...(cookie ? { cookie } : {}) }
  const res = await fetch(`${BASE}/api/v1${path}`, { method, headers, body: body && JSON.stringify(body) })
  const text = await res.text()
  let json = null
  try { json = JSON.parse(text) } catch {}
  return { res, text, json }
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

// A fresh resident: ALTCHA proof of work, the demo SMS sink for the register and first-login codes
// (the second code is refused for ~60 s after the first, so this waits).
async function registerResident() {
  const c = (await api('/captcha')).json
  let n = 0
  while (n <= c.maxnumber && createHash('sha256').update(c.salt + n).digest('hex') !== c.challenge) n++
  const captcha = Buffer.from(JSON.stringify({ algorithm: c.algorithm, challenge: c.challenge, number: n, salt: c.salt, signature: c.signature })).toString('base64')
  const W = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
  // A random birth date and (odd: male) sequence number, so repeated runs against one permitd do not collide.
  const pick = (n) => Math.floor(Math.random() * n)
  const body17 = `330106${1970 + pick(30)}${String(1 + pick(12)).padStart(2, '0')}${10 + pick(19)}${String(pick(500) * 2 + 1).padStart(3, '0')}`
  const idNumber = body17 + '10X98765432'[[...body17].reduce((s, d, i) => s + Number(d) * W[i], 0) % 11]
  const phone = `139${String(Math.floor(Math.random() * 1e8)).padStart(8, '0')}`
  const username = `lh${Date.now().toString(36)}`
  const password = 'lighthouse1'
  const codes = async (re) => ((await api(`/dev/sms?phone=${phone}`)).json ?? []).filter((m) => re.test(m.text)).map((m) => m.text.match(/\d{6}/)[0])
  await api('/sms-codes', { method: 'POST', body: { phone, purpose: 'register' } })
  const [code] = await codes(/注册/)
  const reg = await api('/accounts', { method: 'POST', body: { username, password, password_confirmation: password, real_name: '测试居民', sex: 'male', id_number: idNumber, phone, sms_code: code, region_code: '330102001', captcha } })
  if (!reg.res.ok) throw new Error(`register failed: ${reg.res.status} ${reg.text.slice(0, 200)}`)
  for (let i = 0; i < 5; i++) {
    const first = await api('/sessions', { method: 'POST', body: { username, password } })
    const login = await codes(/登录/)
    if (login.length) return { username, password, sms_code: login[login.length - 1] }
    const wait = (first.json?.retry_after ?? 10) + 1
    process.stderr.write(`waiting ${wait} s for the first-login SMS code ...\n`)
    await sleep(wait * 1000)
  }
  throw new Error('no first-login SMS code')
}

async function signIn() {
  const creds = SIGN_IN === 'admin'
    ? { username: 'admin', password: 'admin-demo-2026' }
    : await registerResident()
  const { res, text } = await api('/sessions', { method: 'POST', body: creds })
  const cookie = (res.headers.get('set-cookie') ?? '').split(';')[0]
  if (!res.ok || !cookie) throw new Error(`sign-in as ${creds.username} failed: ${res.status} ${text.slice(0, 200)}`)
  return { cookie, who: SIGN_IN === 'admin' ? 'the demo `admin` (staff)' : `a freshly registered resident \`${creds.username}\`` }
}

const pct = (s) => (s == null ? 'n/a' : String(Math.round(s * 100)))

function failures(lhr, category, { withInsights = true } = {}) {
  const short = (x) => String(x).replace(/\s+/g, ' ').slice(0, 140)
  return lhr.categories[category].auditRefs
    .map((ref) => ({ ref, audit: lhr.audits[ref.id] }))
    .filter(({ ref, audit }) => audit && audit.score !== null && audit.score < 1 &&
      ['binary', 'numeric', 'metricSavings'].includes(audit.scoreDisplayMode) && (withInsights || ref.weight > 0))
    .sort((a, b) => b.ref.weight - a.ref.weight)
    .map(({ ref, audit }) => {
      const items = audit.details?.items ?? []
      const n = items.length
      const head = `\`${ref.id}\` (weight ${ref.weight}${n ? `, ${n} item${n > 1 ? 's' : ''}` : ''}${audit.displayValue ? `, ${audit.displayValue}` : ''}): ${audit.title}`
      const sample = items.slice(0, 3).map((it) => short(it.description ?? it.node?.snippet ?? it.url ?? it.issueType ?? it.reason ?? JSON.stringify(it)))
      return sample.length && ref.weight > 0 ? `${head}\n${sample.map((x) => `    - ${x}`).join('\n')}` : head
    })
}

async function main() {
  const probe = await fetch(`${BASE}/`).catch((e) => { throw new Error(`no permitd at ${BASE}: ${e.message}`) })
  if (!probe.ok) throw new Error(`GET ${BASE}/ answered ${probe.status}`)
  const session = SIGN_IN === 'none' ? null : await signIn()
  const cookie = session?.cookie
  const chromeVersion = execFileSync(CHROME, ['--version']).toString().trim()

  const chrome = await chromeLauncher.launch({
    chromePath: CHROME,
    chromeFlags: ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
  })
  const rows = []
  const details = []
  try {
    for (const page of PAGES) {
      const signedIn = Boolean(page.auth && cookie)
      const url = BASE + page.path
      process.stderr.write(`lighthouse: ${url}${signedIn ? ` (signed in)` : ' (signed out)'} ...\n`)
      const result = await lighthouse(url, {
        port: chrome.port,
        output: 'json',
        logLevel: 'error',
        onlyCategories: CATEGORIES,
        formFactor: 'mobile',
        ...(signedIn ? { extraHeaders: { Cookie: cookie } } : {}),
      })
      const lhr = result.lhr
      mkdirSync(join(here, 'reports'), { recursive: true })
      const slug = page.path === '/' ? 'home' : page.path.replace(/^\/|\/$/g, '').replace(/\W+/g, '-')
      writeFileSync(join(here, 'reports', `${slug}.json`), result.report)
      const c = lhr.categories
      const finalPath = new URL(lhr.finalDisplayedUrl).pathname + new URL(lhr.finalDisplayedUrl).search
      rows.push({
        page: `${page.name} \`${page.path}\`${signedIn ? ' (signed in)' : ' (signed out)'}` +
          (finalPath !== page.path ? ` → \`${finalPath}\`` : ''),
        perf: pct(c.performance.score),
        a11y: pct(c.accessibility.score),
        bp: pct(c['best-practices'].score),
        metrics: ['first-contentful-paint', 'largest-contentful-paint', 'total-blocking-time', 'cumulative-layout-shift', 'speed-index']
          .map((id) => lhr.audits[id]?.displayValue ?? 'n/a'),
      })
      details.push({ page: page.name, runtimeError: lhr.runtimeError?.message,
        warnings: lhr.runWarnings, a11y: failures(lhr, 'accessibility'),
        bp: failures(lhr, 'best-practices'), perf: failures(lhr, 'performance', { withInsights: false }),
        insights: failures(lhr, 'performance').filter((x) => x.includes('(weight 0')).slice(0, 6) })
    }
  } finally {
    await chrome.kill()
  }

  const table = [
    '| Page | Performance | Accessibility | Best practices |',
    '|---|---:|---:|---:|',
    ...rows.map((r) => `| ${r.page} | ${r.perf} | ${r.a11y} | ${r.bp} |`),
  ].join('\n')
  console.log(table)

  const lhVersion = JSON.parse(execFileSync('node', ['-p', 'JSON.stringify(require("lighthouse/package.json").version)'], { cwd: here }).toString())
  const md = [
    '# Lighthouse results',
    '',
    `- Date: ${new Date().toISOString()}`,
    `- Browser: ${chromeVersion} (\`${CHROME}\`, headless)`,
    `- Lighthouse ${lhVersion}, mobile form factor, default mobile emulation and simulated throttling`,
    `- Server: permitd at ${BASE} serving the embedded pwa/dist${SERVER_NOTE ? `; ${SERVER_NOTE}` : ''}`,
    `- Machine: ${os.cpus().length} cores (${os.cpus()[0]?.model ?? 'unknown'}); permitd, Chromium and Lighthouse share it, so performance scores are noisy and pessimistic`,
    session ? `- Pages marked "signed in" were audited as ${session.who}, its session cookie sent with Lighthouse \`extraHeaders\`` : '- All pages audited signed out',
    '',
    table,
    '',
    '## Performance metrics',
    '',
    '| Page | FCP | LCP | TBT | CLS | Speed Index |',
    '|---|---:|---:|---:|---:|---:|',
    ...rows.map((r) => `| ${r.page} | ${r.metrics.join(' | ')} |`),
    '',
    '## Failing audits',
    '',
    ...details.flatMap((d) => [
      `### ${d.page}`,
      '',
      ...(d.runtimeError ? [`Runtime error: ${d.runtimeError}`, ''] : []),
      ...(d.warnings?.length ? [`Warnings: ${d.warnings.join('; ')}`, ''] : []),
      '- Accessibility: ' + (d.a11y.length ? '\n' + d.a11y.map((x) => `  - ${x}`).join('\n') : 'none'),
      '- Best practices: ' + (d.bp.length ? '\n' + d.bp.map((x) => `  - ${x}`).join('\n') : 'none'),
      '- Performance (scored metrics): ' + (d.perf.length ? '\n' + d.perf.map((x) => `  - ${x}`).join('\n') : 'none'),
      '- Performance (opportunities/insights, first 6): ' + (d.insights.length ? '\n' + d.insights.map((x) => `  - ${x}`).join('\n') : 'none'),
      '',
    ]),
  ].join('\n')
  writeFileSync(join(here, 'results.md'), md)
  process.stderr.write(`wrote ${join(here, 'results.md')} and reports/*.json\n`)
}

main().catch((e) => { console.error(e); process.exit(1) })
