// Browser tests: playwright-core driving Debian's Chromium in mobile emulation.
// With PERMITD=/path/to/permitd it starts permitd in demo mode on a free port with a temp data
// dir and stops it afterwards; otherwise it uses PERMITD_URL (default http://127.0.0.1:8090).
// The built app (pwa/dist) is served same-origin by e2e/serve.mjs. Screenshots go to
// $SCREENSHOTS (default ../test-output/pwa).
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import net from 'node:net'
import zlib from 'node:zlib'
import { chromium, devices } from 'playwright-core'
import { startServer } from './serve.mjs'

const ROOT = path.resolve(new URL('..', import.meta.url).pathname)
const OUT = path.resolve(process.env.SCREENSHOTS ?? path.join(ROOT, '..', 'test-output', 'pwa'))
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium'
fs.mkdirSync(OUT, { recursive: true })

const freePort = () => new Promise((r) => { const s = net.createServer(); s.listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => r(p)) }) })
const sleep = (ms) => new Promise((r) => setTimeout(r, ms))
let permitd = null
let dataDir = null
async function startPermitd() {
  if (!process.env.PERMITD) return process.env.PERMITD_URL ?? 'http://127.0.0.1:8090'
  const port = await freePort()
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'permitd-e2e-'))
  const logFile = path.join(OUT, 'permitd.log')
  permitd = spawn(path.resolve(process.env.PERMITD), [], {
    env: { ...process.env, PERMIT_DEMO: 'true', PERMIT_DATA_DIR: dataDir, PERMIT_LISTEN: `127.0.0.1:${port}` },
    stdio: ['ignore', fs.openSync(logFile, 'w'), fs.openSync(logFile, 'a')],
  })
  const url = `http://127.0.0.1:${port}`
  for (let i = 0; i < 150; i++) {
    if (permitd.exitCode !== null) throw new Error(`permitd exited (${permitd.exitCode}); see ${logFile}`)
    try { if ((await fetch(url + '/healthz')).ok) return url } catch { /* not yet */ }
    await sleep(200)
  }
  throw new Error('permitd did not become healthy')
}
function stopPermitd() {
  if (permitd && permitd.exitCode === null) permitd.kill('SIGTERM')
  if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true })
}

// A small valid PNG as the proof photo.
function png(w, h) {
  const crcT = new Uint32Array(256).map((_, n) => { let c = n; for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1; return c >>> 0 })
  const crc = (b) => { let c = 0xffffffff; for (const x of b) c = crcT[(c ^ x) & 0xff] ^ (c >>> 8); return (c ^ 0xffffffff) >>> 0 }
  const chunk = (t, d) => { const l = Buffer.alloc(4); l.writeUInt32BE(d.length); const td = Buffer.concat([Buffer.from(t), d]); const c = Buffer.alloc(4); c.writeUInt32BE(crc(td)); return Buffer.concat([l, td, c]) }
  const rows = Buffer.concat(Array.from({ length: h }, (_, y) => Buffer.concat([Buffer.from([0]), Buffer.alloc(w * 3, y % 16 < 8 ? 0x40 : 0xc0)])))
  const ihdr = Buffer.alloc(13); ihdr.writeUInt32BE(w, 0); ihdr.writeUInt32BE(h, 4); ihdr.set([8, 2, 0, 0, 0], 8)
  return Buffer.concat([Buffer.from([0x89, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', ihdr), chunk('IDAT', zlib.deflateSync(rows)), chunk('IEND', Buffer.alloc(0))])
}
function idNumber(sexOdd) {
  const W = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2], C = '10X98765432'
  const seq = String(100 + Math.floor(Math.random() * 40) * 2 + (sexOdd ? 1 : 0)).slice(-3)
  const day = String(10 + Math.floor(Math.random() * 18)).padStart(2, '0')
  const b = `33010619880${Math.floor(Math.random() * 9) + 1}${day}${seq}`
  return b + C[[...b].reduce((s, d, i) => s + Number(d) * W[i], 0) % 11]
}

const results = []
let currentPage = null
async function step(name, fn) {
  const t0 = Date.now()
  try {
    await fn()
    results.push({ name, ok: true, ms: Date.now() - t0 })
    console.log(`  ✓ ${name} (${Date.now() - t0} ms)`)
  } catch (e) {
    results.push({ name, ok: false, ms: Date.now() - t0, error: String(e?.stack ?? e) })
    console.log(`  ✗ ${name}\n${e?.stack ?? e}`)
    if (currentPage) await currentPage.screenshot({ path: path.join(OUT, 'failure.png'), fullPage: true }).catch(() => null)
    throw e
  }
}

async function main() {
  if (!fs.existsSync(path.join(ROOT, 'dist', 'index.html'))) throw new Error('pwa/dist is missing: run the build first')
  const upstream = await startPermitd()
  const server = await startServer({ port: 0, upstream })
  const base = `http://127.0.0.1:${server.address().port}`
  console.log(`app ${base} → permitd ${upstream}; screenshots in ${OUT}`)
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-dev-shm-usage'] })
  const device = devices['Pixel 7'] ?? devices['Pixel 5']
  const shot = (page, name) => page.screenshot({ path: path.join(OUT, `${name}.png`), fullPage: true })
  const smsCodes = async (phone, re) => {
    const r = await fetch(`${upstream}/api/v1/dev/sms?phone=${phone}`)
    const list = await r.json()
    return list.filter((m) => re.test(m.text)).map((m) => m.text.match(/\d{6}/)[0])
  }
  try {
    const ctx = await browser.newContext({ ...device, locale: 'zh-CN', serviceWorkers: 'allow' })
    const page = await ctx.newPage()
    currentPage = page
    page.on('pageerror', (e) => console.log('  [pageerror]', e.message))
    page.on('response', async (r) => { if (r.url().includes('/api/') && r.status() >= 400) console.log('  [api]', r.request().method(), r.url(), r.status(), await r.text().catch(() => '')) })
    const user = `e2e${Date.now().toString(36)}`
    const phone = `139${String(Math.floor(Math.random() * 1e8)).padStart(8, '0')}`
    const idn = idNumber(true)
    const password = 'Passw0rd2026'

    await step('home shows the seed navigation and is installable', async () => {
      await page.goto(base + '/')
      for (const label of ['首页', '网上申报', '信息查询', '办事指南', '政策法规']) await page.locator('.van-tabbar-item', { hasText: label }).first().waitFor()
      const manifest = await (await fetch(base + '/manifest.webmanifest')).json()
      if (manifest.name !== '居住证服务' || manifest.display !== 'standalone' || !manifest.icons.some((i) => i.purpose === 'maskable')) throw new Error('manifest')
      const sw = await page.evaluate(async () => { const r = await navigator.serviceWorker.ready; return !!r.active })
      if (!sw) throw new Error('no service worker')
      await shot(page, '01-home')
    })
    await step('service points, guides and policies', async () => {
      await page.locator('.van-tabbar-item', { hasText: '信息查询' }).click()
      await page.getByText('小营派出所受理点').first().waitFor()
      await shot(page, '02-service-points')
      await page.locator('.van-tabbar-item', { hasText: '办事指南' }).click()
      await page.locator('[data-testid=article-row]').first().waitFor()
      await shot(page, '03-guides')
      await page.locator('.van-tabbar-item', { hasText: '政策法规' }).click()
      await page.locator('[data-testid=article-row]').first().click()
      await page.locator('.article-body').waitFor()
      await shot(page, '04-policy')
    })
    await step('register (inline ID validation, SMS code, region, captcha in a worker)', async () => {
      await page.goto(base + '/register')
      await page.getByLabel('账号名').fill(user)
      await page.getByLabel('账户密码').fill(password)
      await page.getByLabel('确认密码').fill(password)
      await page.getByLabel('真实姓名').fill('测试居民')
      await page.getByRole('radio', { name: '男' }).click()
      // A wrong check digit is refused inline.
      const id = page.getByLabel('公民身份号码')
      await id.fill(idn.slice(0, 17) + (idn[17] === '0' ? '1' : '0'))
      await id.blur()
      await page.getByText('校验位不正确').waitFor()
      // Type the number on Vant's NumberKeyboard.
      await id.fill('')
      await id.click()
      for (const ch of idn) await page.locator('.van-number-keyboard__body .van-key', { hasText: new RegExp(`^${ch}$`) }).first().tap()
      await page.locator('.van-number-keyboard__close').tap()
      await page.locator('.van-number-keyboard').waitFor({ state: 'hidden' })
      if ((await id.inputValue()) !== idn) throw new Error(`keyboard typed ${await id.inputValue()}`)
      await page.getByLabel('手机号码').fill(phone)
      await page.getByTestId('sms-button').tap()
      await page.getByText(/秒后重新获取/).waitFor()
      const [code] = await smsCodes(phone, /注册/)
      await page.getByLabel('手机验证码').fill(code)
      await page.getByLabel('所在区域').click()
      await page.locator('.van-cascader__option', { hasText: '上城区' }).click()
      await page.locator('[data-testid=captcha-state][data-state=done]').waitFor({ timeout: 60000 })
      await shot(page, '05-register')
      await page.getByTestId('register-submit').click()
      await page.waitForURL(/\/login/)
    })
    await step('first login asks for an SMS code', async () => {
      await page.getByLabel('账户密码').fill(password)
      await page.getByTestId('login-submit').click()
      await page.getByTestId('sms-needed').waitFor()
      await shot(page, '06-login-sms')
      // The register code blocks a new one for 60 s; resend when the countdown ends.
      let codes = await smsCodes(phone, /登录/)
      for (let i = 0; !codes.length && i < 80; i++) {
        await sleep(1000)
        const resend = page.getByRole('button', { name: '获取手机验证码' })
        if (await resend.isVisible().catch(() => false)) await resend.click()
        codes = await smsCodes(phone, /登录/)
      }
      if (!codes.length) throw new Error('no login SMS')
      await page.getByLabel('手机验证码').fill(codes[codes.length - 1])
      await page.getByTestId('login-submit').click()
      await page.waitForURL((u) => u.pathname === '/')
      await page.getByText('您好，测试居民').waitFor()
    })
    await step('residence registration with the district → street → community cascader', async () => {
      await page.goto(base + '/residence')
      await page.getByTestId('residence-form').waitFor()
      await page.getByLabel('居住地（区县/街道/社区）').click()
      await page.locator('.van-cascader__option', { hasText: '上城区' }).click()
      await page.locator('.van-cascader__option', { hasText: '清波街道' }).click()
      // The demo clerk serves 清波派出所受理点, so live in 清波街道.
      await page.locator('.van-cascader__option', { hasText: '社区' }).first().click()
      await page.getByLabel('详细地址').fill('四宜路61号2幢302室')
      await page.getByLabel('入住日期').click()
      await page.locator('.van-picker__confirm').click()
      await page.getByRole('radio', { name: '租赁房屋' }).click()
      await shot(page, '07-residence-form')
      await page.getByTestId('residence-submit').click()
      await page.getByTestId('residence-row').first().waitFor()
      await shot(page, '08-residence-list')
    })
    await step('eligibility check', async () => {
      await page.goto(base + '/eligibility')
      await page.getByTestId('eligibility-verdict').waitFor()
      await shot(page, '09-eligibility')
    })
    await step('application wizard: step 1, step 2 with upload and delete, 确认申报', async () => {
      await page.goto(base + '/apply/new')
      await page.getByTestId('wizard-step1').waitFor()
      await page.getByLabel('居住地详址').waitFor()
      await page.waitForFunction(() => document.querySelector('input[name=region]')?.value?.includes('清波街道'))
      await page.getByLabel('服务单位').fill('杭州示例科技有限公司')
      await shot(page, '10-wizard-step1')
      await page.getByTestId('wizard-next').click()
      await page.getByTestId('wizard-step2').waitFor()
      await page.getByText('特殊人才', { exact: true }).click()
      const input = page.locator('[data-testid=uploader] input[type=file]')
      await input.setInputFiles([
        { name: 'proof-1.png', mimeType: 'image/png', buffer: png(320, 240) },
        { name: 'proof-2.png', mimeType: 'image/png', buffer: png(200, 300) },
      ])
      await page.waitForFunction(() => document.querySelectorAll('.van-uploader__preview').length === 2 && !document.querySelector('.van-uploader__mask'))
      // Delete the second one with its delete mark.
      await page.locator('.van-uploader__preview-delete').nth(1).click()
      await page.locator('.van-dialog__confirm').click()
      await page.waitForFunction(() => document.querySelectorAll('.van-uploader__preview').length === 1)
      await shot(page, '11-wizard-step2')
      await page.getByTestId('wizard-submit').click()
      await page.waitForURL(/\/book$/)
    })
    let bookedDate
    await step('step 3: booking calendar with the legend, then book', async () => {
      await page.locator('.cal-legend').waitFor()
      for (const s of ['节假日或休息日不能预约', '预约已满，不能预约', '无法预约', '可以预约']) await page.locator('.cal-legend', { hasText: s }).waitFor()
      await shot(page, '12-booking-calendar')
      const day = page.locator('button.cal-day[data-state=available]').first()
      bookedDate = await day.getAttribute('data-date')
      await day.click()
      await page.getByTestId('book-submit').click()
      await page.getByTestId('booking-success').waitFor()
      await page.getByText('已预约，等待初审').first().waitFor()
      await shot(page, '13-booking-done')
    })
    await step('my applications and the detail', async () => {
      await page.goto(base + '/applications')
      await page.getByTestId('application-row').first().waitFor()
      await shot(page, '14-applications')
      await page.getByTestId('application-row').first().locator('.van-cell').first().click()
      await page.getByTestId('basic-info').waitFor()
      await page.locator('img.proof-img').first().waitFor()
      await shot(page, '15-application-detail')
    })
    await step('notification inbox', async () => {
      await page.goto(base + '/notifications')
      await page.getByTestId('notification').first().waitFor()
      await shot(page, '16-notifications')
    })
    await step('wallet shows an empty state before permits exist', async () => {
      await page.goto(base + '/wallet')
      await page.getByTestId('wallet-empty').or(page.locator('.qr-box')).first().waitFor()
      await shot(page, '17-wallet')
    })
    await step('large text at 200 % zoom keeps the wizard usable', async () => {
      await page.goto(base + '/me')
      await page.getByTestId('large-text').click()
      await page.evaluate(() => { document.documentElement.style.zoom = '2' })
      await shot(page, '18-me-large-text')
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth * 2 + 4)
      if (overflow) throw new Error('horizontal overflow at 200 %')
      await page.evaluate(() => { document.documentElement.style.zoom = '' })
      await page.getByTestId('large-text').click()
    })
    await step('public information readable offline (service worker)', async () => {
      await page.goto(base + '/points')
      await page.getByText('小营派出所受理点').first().waitFor()
      await ctx.setOffline(true)
      await page.reload()
      await page.getByText('小营派出所受理点').first().waitFor()
      await shot(page, '19-offline-points')
      await ctx.setOffline(false)
    })
    await ctx.close()

    const staff = await browser.newContext({ ...device, locale: 'zh-CN' })
    const sp = await staff.newPage()
    currentPage = sp
    await step('clerk: review queue with proof, pass with a note', async () => {
      await sp.goto(base + '/login')
      await sp.getByLabel('账号名').fill('clerk')
      await sp.getByLabel('账户密码').fill('clerk-demo-2026')
      await sp.getByTestId('login-submit').click()
      await sp.waitForURL(/\/staff$/)
      await sp.locator('[data-testid=queue-row]', { hasText: '测试居民' }).first().waitFor()
      await shot(sp, '20-staff-queue')
      await sp.locator('[data-testid=queue-row]', { hasText: '测试居民' }).first().click()
      await sp.locator('[data-testid=proof] img').first().waitFor()
      await sp.getByLabel('审核意见').fill('材料齐全，请按时到受理点办理')
      await shot(sp, '21-staff-review')
      await sp.getByTestId('review-pass').click()
      await sp.waitForURL(/\/staff$/)
    })
    await step('clerk: the day\'s appointments', async () => {
      await sp.goto(base + '/staff/appointments')
      await sp.getByLabel('日期').fill(bookedDate)
      await sp.getByLabel('日期').dispatchEvent('change')
      await sp.locator('[data-testid=appointment-row]', { hasText: '测试居民' }).waitFor()
      await shot(sp, '22-staff-appointments')
    })
    await staff.close()
  } finally {
    await browser.close().catch(() => null)
    server.close()
    stopPermitd()
    fs.writeFileSync(path.join(OUT, 'results.json'), JSON.stringify(results, null, 2))
  }
}

main().then(
  () => { console.log(`e2e: ${results.length} steps passed`); process.exit(0) },
  (e) => { console.error(`e2e failed: ${e?.message ?? e}`); stopPermitd(); process.exit(1) },
)
