// WCAG 2.2 AA audit with axe-core for the browser tests: `await audit(page, 'name')` after a
// screen has rendered. The full axe result goes to $SCREENSHOTS/axe-<name>.json; violations of
// impact serious or critical (colour contrast is serious) fail the step.
import fs from 'node:fs'
import path from 'node:path'
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)
const OUT = path.resolve(process.env.SCREENSHOTS ?? path.join(path.dirname(new URL(import.meta.url).pathname), '..', '..', 'test-output', 'pwa'))
// Injected with evaluate (a CDP call), not a <script> tag, so a page CSP cannot block it.
const AXE_SOURCE = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8')
const TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa']
const FAILING = new Set(['serious', 'critical'])

export async function audit(page, name) {
  // Let Vant's transitions (toasts, popups, tab indicators) settle: a half-faded element has a
  // contrast that no one reads.
  await page.waitForTimeout(400)
  if (!(await page.evaluate(() => typeof window.axe === 'object'))) await page.evaluate(AXE_SOURCE)
  const result = await page.evaluate(
    (tags) => window.axe.run(document, { runOnly: { type: 'tag', values: tags }, resultTypes: ['violations', 'incomplete'] }),
    TAGS,
  )
  fs.mkdirSync(OUT, { recursive: true })
  fs.writeFileSync(path.join(OUT, `axe-${name}.json`), JSON.stringify(result, null, 2))
  const bad = result.violations.filter((v) => FAILING.has(v.impact))
  if (bad.length) {
    const lines = bad.map((v) => {
      const nodes = v.nodes.slice(0, 8).map((n) => `      ${n.target.join(' ')}: ${(n.failureSummary ?? '').replace(/\s+/g, ' ').slice(0, 240)}`)
      const more = v.nodes.length > 8 ? [`      … and ${v.nodes.length - 8} more`] : []
      return [`  ${v.id} (${v.impact}): ${v.help}`, ...nodes, ...more].join('\n')
    })
    throw new Error(`axe: ${bad.length} serious/critical WCAG 2.2 AA violation(s) on ${name} (${page.url()}); see axe-${name}.json\n${lines.join('\n')}`)
  }
  const minor = result.violations.filter((v) => !FAILING.has(v.impact))
  if (minor.length) console.log(`    axe ${name}: minor/moderate: ${minor.map((v) => `${v.id}×${v.nodes.length}`).join(', ')}`)
  return result
}
