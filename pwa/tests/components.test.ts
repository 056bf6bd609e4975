import { describe, it, expect } from 'vitest'
import { mount } from '@vue/test-utils'
import { createI18n } from 'vue-i18n'
import zh from '../src/locales/zh-CN'
import BookingCalendarGrid from '../src/components/BookingCalendarGrid.vue'
import IdNumberField from '../src/components/IdNumberField.vue'
import { Field, NumberKeyboard } from 'vant'

const i18n = () => createI18n({ legacy: false, locale: 'zh-CN', messages: { 'zh-CN': zh } })

describe('BookingCalendarGrid', () => {
  const days = [
    { date: '2026-11-25', state: 'unavailable' as const, mine: false },
    { date: '2026-11-27', state: 'available' as const, remaining: 12, mine: false },
    { date: '2026-11-28', state: 'holiday' as const, mine: false },
    { date: '2026-11-30', state: 'full' as const, remaining: 0, mine: false },
  ]
  it('colours days by state, shows places left and 满, and a legend', () => {
    const w = mount(BookingCalendarGrid, { props: { days, modelValue: null }, global: { plugins: [i18n()] } })
    const day = (d: string) => w.find(`[data-date="${d}"]`)
    expect(day('2026-11-27').classes()).toContain('day-available')
    expect(day('2026-11-27').text()).toContain('余12')
    expect(day('2026-11-28').classes()).toContain('day-holiday')
    expect(day('2026-11-30').text()).toContain('满')
    expect(day('2026-11-25').classes()).toContain('day-unavailable')
    expect(day('2026-11-30').attributes('disabled')).toBeDefined()
    // The accessible name is the visible text followed by the spoken details.
    expect(day('2026-11-27').attributes('aria-label')).toBeUndefined()
    expect(day('2026-11-27').text()).toMatch(/^27\s*余12.*可以预约.*剩余12个名额/)
    const legend = w.find('.cal-legend').text()
    for (const s of ['节假日或休息日不能预约', '预约已满，不能预约', '无法预约', '可以预约', '红色', '灰色', '蓝色']) expect(legend).toContain(s)
  })
  it('emits the chosen available day only', async () => {
    const w = mount(BookingCalendarGrid, { props: { days, modelValue: null }, global: { plugins: [i18n()] } })
    await w.find('[data-date="2026-11-28"]').trigger('click')
    await w.find('[data-date="2026-11-27"]').trigger('click')
    expect(w.emitted('update:modelValue')).toEqual([['2026-11-27']])
  })
})

describe('IdNumberField', () => {
  it('normalises input and shows the check-digit error after blur', async () => {
    const w = mount(IdNumberField, {
      props: { modelValue: '110105194912310021', 'onUpdate:modelValue': () => {} },
      global: { plugins: [i18n()], components: { VanField: Field, VanNumberKeyboard: NumberKeyboard } },
    })
    await w.find('input').trigger('blur')
    // Shown once the blur's tap is over (lib/tap.ts), not under the finger.
    expect(w.text()).not.toContain('校验位不正确')
    await new Promise((r) => setTimeout(r, 350))
    await w.vm.$nextTick()
    expect(w.text()).toContain('校验位不正确')
    await w.find('input').setValue('11010519491231002x')
    const emitted = w.emitted('update:modelValue') as string[][]
    expect(emitted[emitted.length - 1][0]).toBe('11010519491231002X')
  })
})
