// Vant 4 renders some icon-only controls without an accessible name, and offers no prop or slot
// to give them one: the close icons of Popup (`closeable`), ImagePreview, ActionSheet and
// Cascader, the backspace key of NumberKeyboard, and the overlay of a popup that closes on a tap
// (a role=button div). They are named here, in the current language, as Vant adds them to the
// page. The ActionSheet and Cascader close icons are plain <i> elements with a click handler;
// they also become focusable buttons that Enter and Space press.
import { watch } from 'vue'
import { i18n } from '../i18n'

const CONTROLS: { selector: string; key: string; makeButton?: boolean }[] = [
  { selector: '.van-popup__close-icon', key: 'a11y.close', makeButton: true },
  { selector: '.van-image-preview__close-icon', key: 'a11y.close', makeButton: true },
  { selector: '.van-action-sheet__close', key: 'a11y.close', makeButton: true },
  { selector: '.van-cascader__close-icon', key: 'a11y.close', makeButton: true },
  { selector: '.van-key--delete', key: 'a11y.backspace' },
  { selector: '.van-overlay[role=button]', key: 'a11y.close' },
]

function pressOnKey(this: HTMLElement, e: KeyboardEvent) {
  if (e.key !== 'Enter' && e.key !== ' ') return
  e.preventDefault()
  this.click()
}

/** Names the unnamed Vant controls under `root`. */
export function nameVantControls(root: ParentNode = document.body) {
  for (const c of CONTROLS) {
    const name = i18n.global.t(c.key)
    root.querySelectorAll<HTMLElement>(c.selector).forEach((el) => {
      if (el.getAttribute('aria-label') !== name) el.setAttribute('aria-label', name)
      if (!c.makeButton) return
      if (!el.hasAttribute('role')) el.setAttribute('role', 'button')
      if (!el.hasAttribute('tabindex')) el.tabIndex = 0
      if (!el.dataset.a11yKeys) {
        el.dataset.a11yKeys = '1'
        el.addEventListener('keydown', pressOnKey)
      }
    })
  }
}

/** Keeps naming them as the page changes and when the language changes. */
export function installVantA11y() {
  let queued = false
  const run = () => {
    queued = false
    nameVantControls()
  }
  // Only added nodes are watched: the attributes set here do not trigger another run.
  new MutationObserver(() => {
    if (queued) return
    queued = true
    setTimeout(run)
  }).observe(document.body, { childList: true, subtree: true })
  watch(i18n.global.locale, run)
  run()
}
