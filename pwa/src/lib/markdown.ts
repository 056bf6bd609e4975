// A small Markdown subset for guide and policy articles: headings (#…), lists (- / 1.),
// paragraphs and **bold**. It returns plain blocks that a template renders as text nodes,
// so an article can never inject HTML (and the CSP forbids inline script anyway).
export type Inline = { text: string; bold: boolean }
export type Block =
  | { kind: 'heading'; level: 2 | 3 | 4; inline: Inline[] }
  | { kind: 'para'; inline: Inline[] }
  | { kind: 'list'; ordered: boolean; items: Inline[][] }

export function inline(s: string): Inline[] {
  const out: Inline[] = []
  const parts = s.split('**')
  // An unmatched ** stays as typed.
  if (parts.length % 2 === 0) return [{ text: s, bold: false }]
  parts.forEach((text, i) => {
    if (text) out.push({ text, bold: i % 2 === 1 })
  })
  return out
}

export function parseMarkdown(src: string): Block[] {
  const blocks: Block[] = []
  let para: string[] = []
  let list: { ordered: boolean; items: Inline[][] } | null = null
  const flush = () => {
    if (para.length) blocks.push({ kind: 'para', inline: inline(para.join(' ')) })
    para = []
    if (list) blocks.push({ kind: 'list', ...list })
    list = null
  }
  for (const raw of src.replace(/\r\n?/g, '\n').split('\n')) {
    const line = raw.trim()
    if (!line) {
      flush()
      continue
    }
    const h = /^(#{1,6})\s+(.*)$/.exec(line)
    if (h) {
      flush()
      // The page title is the article's h1/h2; headings inside start one level below.
      const level = Math.min(4, Math.max(2, h[1].length + 1)) as 2 | 3 | 4
      blocks.push({ kind: 'heading', level, inline: inline(h[2].replace(/\s+#+$/, '')) })
      continue
    }
    const li = /^(?:([-*+])|(\d+)[.、)])\s+(.*)$/.exec(line)
    if (li) {
      const ordered = !li[1]
      if (para.length) {
        blocks.push({ kind: 'para', inline: inline(para.join(' ')) })
        para = []
      }
      if (list && list.ordered !== ordered) flush()
      list ??= { ordered, items: [] }
      list.items.push(inline(li[3]))
      continue
    }
    if (list) flush()
    para.push(line)
  }
  flush()
  return blocks
}
