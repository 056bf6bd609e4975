// Layout checks for large text and 200 % zoom (issue 19): `await layoutProblems(page, scope)`
// lists, inside `scope`, visible interactive elements or text boxes that overlap each other,
// text whose box clips it (scrollWidth > clientWidth, or scrollHeight > clientHeight when the
// box hides overflow), and, with `targets`, tap targets smaller than 44 x 44 CSS px.
// Elements inside a fixed layer (tab bar, popups, toasts) are compared only with elements of
// the same layer: page content scrolls under a fixed bar by design.
export async function layoutProblems(page, { scope = 'body', targets = true } = {}) {
  return page.evaluate(({ scope, targets }) => {
    const roots = [...document.querySelectorAll(scope)]
    const INTERACTIVE = 'button, a[href], input:not([type=hidden]), textarea, select, [role=button], [role=radio], [role=checkbox], [role=switch], [role=tab], .van-popup__close-icon'
    const zoom = parseFloat(getComputedStyle(document.documentElement).zoom || '1') || 1
    const visible = (el) => {
      for (let e = el; e; e = e.parentElement) {
        const cs = getComputedStyle(e)
        if (cs.display === 'none' || cs.visibility === 'hidden' || cs.opacity === '0') return false
        if (e.classList?.contains('sr-only')) return false
      }
      const r = el.getBoundingClientRect()
      return r.width > 2 && r.height > 2
    }
    const layer = (el) => {
      for (let e = el; e; e = e.parentElement) {
        const p = getComputedStyle(e).position
        if (p === 'fixed' || p === 'sticky') return e
      }
      return null
    }
    const label = (el) => {
      const t = (el.getAttribute?.('aria-label') || el.textContent || '').replace(/\s+/g, ' ').trim().slice(0, 30)
      return `<${el.tagName.toLowerCase()}${el.className && typeof el.className === 'string' ? ' .' + el.className.split(' ')[0] : ''}> "${t}"`
    }
    const hasOwnText = (el) => [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim())
    const items = []
    const seen = new Set()
    for (const root of roots) {
      for (const el of root.querySelectorAll('*')) {
        if (seen.has(el)) continue
        const interactive = el.matches(INTERACTIVE)
        const text = hasOwnText(el)
        if (!interactive && !text) continue
        seen.add(el)
        if (!visible(el)) continue
        // A radio's or checkbox's input is hidden inside its labelled box; the box is the target.
        const box = interactive && el.matches('input[type=radio], input[type=checkbox]') ? (el.closest('.van-radio, .van-checkbox, label') ?? el) : el
        items.push({ el: box, interactive, text })
      }
    }
    const problems = []
    // Text boxes: the range of the element's own text, so a wide block with short text does
    // not count as overlapping the icon beside the text.
    const boxOf = (it) => {
      if (it.interactive || !it.text) return it.el.getBoundingClientRect()
      const range = document.createRange()
      range.selectNodeContents(it.el)
      return range.getBoundingClientRect()
    }
    const rects = items.map((it) => ({ ...it, r: boxOf(it), layer: layer(it.el) }))
    for (const it of rects) {
      if (it.text && it.el.clientWidth > 0) {
        const cs = getComputedStyle(it.el)
        if (it.el.scrollWidth > it.el.clientWidth + 1 && cs.overflowX !== 'visible') problems.push(`clipped sideways: ${label(it.el)} ${it.el.scrollWidth}>${it.el.clientWidth}`)
        else if (it.el.scrollWidth > it.el.clientWidth + 1 && cs.whiteSpace !== 'normal') problems.push(`text runs out of its box: ${label(it.el)} ${it.el.scrollWidth}>${it.el.clientWidth}`)
        if (it.el.scrollHeight > it.el.clientHeight + 1 && cs.overflowY !== 'visible' && cs.overflowY !== 'auto' && cs.overflowY !== 'scroll') problems.push(`clipped vertically: ${label(it.el)} ${it.el.scrollHeight}>${it.el.clientHeight}`)
      }
      if (targets && it.interactive) {
        const r = (it.el.closest('.van-cell') ?? it.el).getBoundingClientRect()
        const w = r.width / zoom, h = r.height / zoom
        if (w < 44 - 0.5 || h < 44 - 0.5) problems.push(`target under 44 px: ${label(it.el)} ${Math.round(w)}x${Math.round(h)}`)
      }
    }
    for (let i = 0; i < rects.length; i++) {
      for (let j = i + 1; j < rects.length; j++) {
        const a = rects[i], b = rects[j]
        if (a.layer !== b.layer) continue
        if (a.el.contains(b.el) || b.el.contains(a.el)) continue
        // A text box inside an interactive element belongs to it (its label).
        if ((a.interactive && !b.interactive && a.el.contains(b.el)) || (b.interactive && !a.interactive && b.el.contains(a.el))) continue
        const x = Math.min(a.r.right, b.r.right) - Math.max(a.r.left, b.r.left)
        const y = Math.min(a.r.bottom, b.r.bottom) - Math.max(a.r.top, b.r.top)
        if (x > 2 && y > 2) problems.push(`overlap: ${label(a.el)} and ${label(b.el)} (${Math.round(x)}x${Math.round(y)})`)
      }
    }
    return [...new Set(problems)]
  }, { scope, targets })
}

// The screen in large text, then in large text at 200 % zoom: throws with every problem found.
export async function checkZoomedLayout(page, name, { scope = 'body', shot } = {}) {
  const found = []
  try {
    await page.evaluate(() => document.documentElement.classList.add('large-text'))
    await page.waitForTimeout(150)
    if (shot) await shot(page, `${name}-large`)
    for (const p of await layoutProblems(page, { scope })) found.push(`large text: ${p}`)
    await page.evaluate(() => { document.documentElement.style.zoom = '2' })
    await page.waitForTimeout(150)
    if (shot) await shot(page, `${name}-large-200`)
    for (const p of await layoutProblems(page, { scope, targets: false })) found.push(`200 %: ${p}`)
  } finally {
    await page.evaluate(() => { document.documentElement.classList.toggle('large-text', JSON.parse(localStorage.getItem('permit.prefs') ?? '{}').largeText === true); document.documentElement.style.zoom = '' })
  }
  if (found.length) throw new Error(`${name}: ${found.length} layout problem(s):\n  ${found.slice(0, 40).join('\n  ')}`)
}
