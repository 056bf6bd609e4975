// condition_not_met: its date and exempt conditions reach the screen, in Chinese from the
// server's words and in English from the codes.
import { describe, it, expect, afterEach } from 'vitest'
import { errorText } from '../src/lib/errors'
import { toApiError } from '../src/api/client'
import { i18n, useLocale } from '../src/i18n'

const refusal = () =>
  toApiError(new Response(JSON.stringify({
    code: 'condition_not_met', field: 'condition', message: '居住登记时间未满规定期限，2027年06月03日起可申领；特殊人才不受居住时间限制',
    eligible_from: '2027-06-03', exempt_conditions: ['talent', 7],
  }), { status: 422 }))

afterEach(() => useLocale('zh-CN'))

describe('condition_not_met', () => {
  it('carries the opening date and the exempt conditions (strings only)', async () => {
    const e = await refusal()
    expect(e.field).toBe('condition')
    expect(e.eligibleFrom).toBe('2027-06-03')
    expect(e.exemptConditions).toEqual(['talent'])
  })
  it("keeps the server's Chinese words", async () => {
    expect(errorText(await refusal())).toContain('2027年06月03日起可申领')
  })
  it('is told in English from the date and the codes', async () => {
    await useLocale('en')
    const text = errorText(await refusal())
    expect(text).toContain('2027-06-03')
    expect(text).toContain('Special talent')
    expect(text).not.toMatch(/[\u4e00-\u9fff]/)
  })
})
