import { describe, expect, it } from 'vitest'
import { csrfToken } from '../../src/shared/api'

describe('the CSRF cookie', () => {
  it('is read for the realm asked', () => {
    const cookies = 'x=1; cm_driver_csrf=dd; cm_staff_csrf=ss'
    expect(csrfToken('staff', cookies)).toBe('ss')
    expect(csrfToken('driver', cookies)).toBe('dd')
    expect(csrfToken('staff', 'cm_staff=abc')).toBe('')
  })
})
