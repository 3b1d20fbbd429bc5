import { describe, expect, it } from 'vitest'
import en from '../../src/shared/locales/en'
import zhCN from '../../src/shared/locales/zh-CN'

function keys(messages: object, prefix = ''): string[] {
  return Object.entries(messages).flatMap(([key, value]) =>
    typeof value === 'object' ? keys(value as object, `${prefix}${key}.`) : [`${prefix}${key}`],
  )
}

describe('translations', () => {
  it('say the same things in both languages', () => {
    expect(keys(zhCN).sort()).toEqual(keys(en).sort())
  })

  it('leave nothing empty or untranslated', () => {
    const english = new Map(keys(en).map((k) => [k, k.split('.').reduce((o: any, p) => o[p], en)]))
    for (const key of keys(zhCN)) {
      const chinese = key.split('.').reduce((o: any, p) => o[p], zhCN) as string
      expect(chinese.trim(), key).not.toBe('')
      // Names and units may read the same; sentences may not.
      if (/[a-z]{4,} [a-z]{3,}/.test(english.get(key))) expect(chinese, key).not.toBe(english.get(key))
    }
  })

  it('translate every error code of the API', () => {
    for (const code of ['unauthorized', 'forbidden', 'not_found', 'invalid_request', 'invalid_tariff', 'not_expressible',
      'conflict', 'payment_declined', 'payment_unavailable', 'charger_not_connected', 'member_unreachable',
      'ledger_disabled', 'too_many_attempts', 'charger_refused', 'not_charging', 'not_reserved', 'no_active_token',
      'not_anchored', 'already_disputed', 'dispute_window_closed', 'no_operator', 'token_inactive', 'token_of_another_member',
      'governance', 'already_voted', 'unknown_proposal', 'invalid_phone', 'too_many_codes', 'wrong_code',
      'signup_closed', 'sms_failed', 'internal']) {
      expect(Object.keys(en.errors)).toContain(code)
    }
  })
})
