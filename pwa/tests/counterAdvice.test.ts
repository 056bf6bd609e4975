import { describe, it, expect } from 'vitest'
import { counterAdvice, smsCodeSpent } from '../src/lib/errors'
import { ApiError } from '../src/api/client'

describe('counterAdvice', () => {
  it("keeps the server's words when a refusal sends the person to a counter", () => {
    const held = new ApiError(409, 'application_held_elsewhere', '该公民身份号码已被其他账号提交的申请占用……请携带本人居民身份证到任一受理点窗口', 'applicant_id_number')
    expect(counterAdvice(held)).toContain('受理点')
    const taken = new ApiError(409, 'id_number_taken', '该公民身份号码已注册过账号……受理点窗口办理', 'id_number')
    expect(counterAdvice(taken)).toContain('受理点')
  })
  it('is empty for every other refusal and for errors that are not the API', () => {
    expect(counterAdvice(new ApiError(409, 'application_exists', '您已提交过申请'))).toBe('')
    expect(counterAdvice(new ApiError(422, 'invalid_sms_code', '短信验证码错误或已失效'))).toBe('')
    expect(counterAdvice(new Error('boom'))).toBe('')
  })
})

describe('smsCodeSpent', () => {
  it('is true only for the conflicts registration says after checking the code', () => {
    expect(smsCodeSpent(new ApiError(409, 'username_taken', ''))).toBe(true)
    expect(smsCodeSpent(new ApiError(409, 'id_number_taken', ''))).toBe(true)
    // A wrong code was not spent by a conflict: the person corrects it.
    expect(smsCodeSpent(new ApiError(422, 'invalid_sms_code', ''))).toBe(false)
    expect(smsCodeSpent(new Error('x'))).toBe(false)
  })
})
