import { describe, it, expect } from 'vitest'
import zh from '../src/locales/zh-CN'
import en from '../src/locales/en'

// The type checker holds each file to the other's shape (vue-tsc runs over the tests too).
const enHasEveryChineseText: typeof zh = en
const zhHasEveryEnglishText: typeof en = zh

type Tree = { [k: string]: string | Tree }
const paths = (t: Tree, prefix = ''): string[] =>
  Object.entries(t).flatMap(([k, v]) => (typeof v === 'string' ? [`${prefix}${k}`] : paths(v, `${prefix}${k}.`))).sort()

describe('locale files', () => {
  it('give every text in both languages, and nothing in one only', () => {
    expect(paths(enHasEveryChineseText as Tree)).toEqual(paths(zhHasEveryEnglishText as Tree))
    expect(paths(zh as Tree).length).toBeGreaterThan(300)
  })
  it('leave no text empty', () => {
    for (const [name, tree] of [['zh-CN', zh], ['en', en]] as const) {
      const empty = paths(tree as Tree).filter((p) => !p.split('.').reduce<string | Tree>((t, k) => (t as Tree)[k]!, tree as Tree))
      expect(empty, name).toEqual([])
    }
  })
})
