import { describe, expect, it } from 'vitest'
import { count, dateTime, duration, kwh, minor, money, parseMinor } from '../../src/shared/format'

describe('money', () => {
  it('shows two decimals without going through floating point', () => {
    expect(money('12.3456', 'CNY', 'zh-CN')).toBe('¥12.34')
    expect(money('1234567.5', 'CNY', 'en')).toBe('¥1,234,567.50')
    expect(money('9007199254740993.99', 'CNY', 'en')).toBe('¥9,007,199,254,740,993.99')
    expect(money('-0.5', 'EUR', 'en')).toBe('-EUR 0.50')
    expect(money('-0.001', 'CNY', 'en')).toBe('¥0.00')
    expect(money(null, 'CNY', 'en')).toBe('—')
  })
})

describe('energy', () => {
  it('shows milliwatt-hours as kWh with three decimals', () => {
    expect(kwh(12_345_678, 'en')).toBe('12.346 kWh')
    expect(kwh(1_234_000_000, 'zh-CN')).toBe('1,234.000 kWh')
    expect(kwh(999, 'en')).toBe('0.001 kWh')
    expect(kwh(0, 'en')).toBe('0.000 kWh')
  })
})

describe('counts', () => {
  it('group thousands as the locale does', () => {
    expect(count(10000, 'en')).toBe('10,000')
    expect(count(10000, 'zh-CN')).toBe('10,000')
    expect(count(0, 'en')).toBe('0')
    expect(count(undefined, 'en')).toBe('—')
  })
})

describe('times', () => {
  it('are 24-hour local times of the zone asked for', () => {
    expect(dateTime('2026-12-06T13:05:03Z', 'Asia/Shanghai', 'zh-CN')).toBe('2026-12-06 21:05:03')
    expect(dateTime('2026-12-06T13:05:03Z', 'Europe/London', 'en')).toBe('2026-12-06 13:05:03')
    expect(dateTime('2026-12-06T16:00:00Z', 'Asia/Shanghai', 'en')).toBe('2026-12-07 00:00:00')
  })

  it('durations read h:mm:ss', () => {
    expect(duration(3_725_000)).toBe('1:02:05')
    expect(duration(-5)).toBe('0:00:00')
  })
})

describe('minor units', () => {
  it('show fen as yuan with two decimals', () => {
    expect(minor(1234, 'CNY', 'zh-CN')).toBe('¥12.34')
    expect(minor(5, 'CNY', 'en')).toBe('¥0.05')
    expect(minor(-250, 'CNY', 'en')).toBe('-¥2.50')
    expect(minor(123456789, 'CNY', 'en')).toBe('¥1,234,567.89')
  })

  it('read what a person types, or refuse it', () => {
    expect(parseMinor('12.5')).toBe(1250)
    expect(parseMinor('0,05')).toBe(5)
    expect(parseMinor(' 3 ')).toBe(300)
    expect(parseMinor('1.234')).toBeNull()
    expect(parseMinor('-1')).toBeNull()
    expect(parseMinor('abc')).toBeNull()
  })
})
