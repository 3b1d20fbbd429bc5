// Numbers, amounts, energy and times as each locale writes them. Amounts arrive from the API as
// exact decimal strings and are never turned into floating point for arithmetic; only for display
// are they handed to Intl, which rounds half-even like nothing else here needs.

export type Locale = 'zh-CN' | 'en'

/** An amount in its currency with two decimals, e.g. ¥12.34 / CN¥12.34. */
export function money(amount: string | null | undefined, currency: string, locale: Locale): string {
  if (amount === null || amount === undefined || amount === '') return '—'
  const [whole, fraction = ''] = amount.replace(/^-/, '').split('.')
  const cents = (fraction + '00').slice(0, 2)
  const negative = amount.startsWith('-') && /[1-9]/.test(whole + cents)
  const grouped = new Intl.NumberFormat(locale, { useGrouping: true }).format(BigInt(whole || '0'))
  const symbol = currency === 'CNY' ? '¥' : `${currency} `
  return `${negative ? '-' : ''}${symbol}${grouped}.${cents}`
}

/** A count grouped as the locale groups thousands, e.g. 10,000. */
export function count(n: number | null | undefined, locale: Locale): string {
  return n === null || n === undefined ? '—' : new Intl.NumberFormat(locale).format(n)
}

/** Energy in milliwatt-hours as kWh with three decimals. */
export function kwh(mwh: number | null | undefined, locale: Locale): string {
  if (mwh === null || mwh === undefined) return '—'
  const whole = Math.trunc(mwh / 1_000_000)
  const rest = Math.abs(mwh % 1_000_000)
  const decimals = String(Math.round(rest / 1000)).padStart(3, '0')
  const grouped = new Intl.NumberFormat(locale).format(Math.abs(whole))
  return `${mwh < 0 ? '-' : ''}${grouped}.${decimals} kWh`
}

/** A moment as a 24-hour local time in `timeZone` (the site's), e.g. 2026-12-06 09:05:03. */
export function dateTime(iso: string | null | undefined, timeZone: string, locale: Locale): string {
  if (!iso) return '—'
  const parts = new Intl.DateTimeFormat(locale === 'zh-CN' ? 'zh-CN' : 'en-GB', {
    timeZone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    hourCycle: 'h23',
  }).formatToParts(new Date(iso))
  const part = (type: string) => parts.find((p) => p.type === type)?.value ?? ''
  return `${part('year')}-${part('month')}-${part('day')} ${part('hour')}:${part('minute')}:${part('second')}`
}

/** A duration in milliseconds as h:mm:ss. */
export function duration(millis: number): string {
  const seconds = Math.max(0, Math.floor(millis / 1000))
  const h = Math.floor(seconds / 3600)
  const m = Math.floor((seconds % 3600) / 60)
  const s = seconds % 60
  return `${h}:${String(m).padStart(2, '0')}:${String(s).padStart(2, '0')}`
}

/** An amount in the currency's minor units (fen), as {@link money} shows it. */
export function minor(units: number | null | undefined, currency: string, locale: Locale): string {
  if (units === null || units === undefined) return '—'
  const sign = units < 0 ? '-' : ''
  const digits = String(Math.abs(units)).padStart(3, '0')
  return money(`${sign}${digits.slice(0, -2)}.${digits.slice(-2)}`, currency, locale)
}

/** An amount typed by a person (e.g. `12.5`) in minor units, or null when it is not one. */
export function parseMinor(text: string): number | null {
  const match = /^\s*(\d{1,9})(?:[.,](\d{1,2}))?\s*$/.exec(text)
  if (!match) return null
  return Number(match[1]) * 100 + Number((match[2] ?? '').padEnd(2, '0'))
}
