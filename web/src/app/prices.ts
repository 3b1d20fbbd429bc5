// A tariff's day as the app shows it: each part of today with its price per kWh (electricity and
// service fee, VAT included), from the OCPI tariff's elements the charger's member publishes.

interface Element {
  price_components: { type: string; price: number; vat?: number }[]
  restrictions?: { start_time?: string; end_time?: string; day_of_week?: string[] }
}

export interface DayPart {
  start: number
  end: number
  from: string
  to: string
  label: 'sharp' | 'peak' | 'flat' | 'valley' | 'other'
  price: string
}

function minutes(text: string | undefined, otherwise: number): number {
  if (!text) return otherwise
  const [h, m] = text.split(':').map(Number)
  return h * 60 + m
}

function clock(total: number): string {
  return `${String(Math.floor(total / 60)).padStart(2, '0')}:${String(total % 60).padStart(2, '0')}`
}

/** The day cut where the price per kWh changes; the first element that holds wins, as in OCPI. */
export function dayPrices(elements: Element[]): DayPart[] {
  const priceAt = (minute: number): number | null => {
    for (const element of elements) {
      const start = minutes(element.restrictions?.start_time, 0)
      const end = minutes(element.restrictions?.end_time, 1440) || 1440
      const inside = start < end ? minute >= start && minute < end : minute >= start || minute < end
      const perKwh = element.price_components.filter((c) => c.type === 'ENERGY')
      // OCPI prices are before VAT; drivers in China read prices with it.
      if (inside && perKwh.length) return perKwh.reduce((sum, c) => sum + c.price * (1 + (c.vat ?? 0) / 100), 0)
    }
    return null
  }
  const parts: DayPart[] = []
  for (let minute = 0; minute < 1440; minute += 15) {
    const price = priceAt(minute)
    if (price === null) continue
    const last = parts[parts.length - 1]
    const text = price.toFixed(4).replace(/0{1,2}$/, '')
    if (last && last.end === minute && last.price === text) last.end = minute + 15
    else parts.push({ start: minute, end: minute + 15, from: '', to: '', label: 'other', price: text })
  }
  const ranked = [...new Set(parts.map((p) => Number(p.price)))].sort((a, b) => b - a)
  const names = ranked.length === 4 ? (['sharp', 'peak', 'flat', 'valley'] as const) : ranked.length === 3 ? (['peak', 'flat', 'valley'] as const) : ranked.length === 2 ? (['peak', 'valley'] as const) : (['flat'] as const)
  for (const part of parts) {
    part.from = clock(part.start)
    part.to = clock(part.end)
    part.label = ranked.length <= 4 ? names[ranked.indexOf(Number(part.price))] : 'other'
  }
  return parts
}

/** A price per kWh as the node gives it (`1.3560 CNY`) as a driver reads it: `¥1.356`, at least two
 *  decimals and no trailing zeros beyond them. */
export function priceText(text: string | null): string {
  if (!text) return ''
  const [amount, currency = 'CNY'] = text.trim().split(/\s+/)
  const trimmed = amount.includes('.') ? amount.replace(/0+$/, '').replace(/\.(\d)$/, '.$10').replace(/\.$/, '.00') : `${amount}.00`
  return `${currency === 'CNY' ? '¥' : `${currency} `}${trimmed}`
}
