import { describe, expect, it } from 'vitest'
import { dayPrices, priceText } from '../../src/app/prices'

const energy = (price: number, start?: string, end?: string) => ({
  price_components: [{ type: 'ENERGY', price, vat: 13 }],
  restrictions: start ? { start_time: start, end_time: end } : undefined,
})

describe("a charger's day of prices", () => {
  it('cuts the day where the price changes, VAT included, and names the periods by rank', () => {
    const day = dayPrices([energy(1, '08:00', '22:00'), energy(0.5, '22:00', '08:00')])
    expect(day.map((p) => [p.from, p.to, p.price, p.label])).toEqual([
      ['00:00', '08:00', '0.565', 'valley'],
      ['08:00', '22:00', '1.13', 'peak'],
      ['22:00', '24:00', '0.565', 'valley'],
    ])
  })

  it('takes the first element that holds, and a whole-day price as flat', () => {
    const day = dayPrices([energy(2, '10:00', '11:00'), energy(1)])
    expect(day.map((p) => p.label)).toEqual(['valley', 'peak', 'valley'])
    expect(dayPrices([energy(1)])).toEqual([{ start: 0, end: 1440, from: '00:00', to: '24:00', label: 'flat', price: '1.13' }])
  })
})

describe('a price per kWh', () => {
  it('reads as drivers read prices', () => {
    expect(priceText('1.8200 CNY')).toBe('¥1.82')
    expect(priceText('1.3560 CNY')).toBe('¥1.356')
    expect(priceText('2.0000 CNY')).toBe('¥2.00')
    expect(priceText('1.5000 CNY')).toBe('¥1.50')
    expect(priceText('3 EUR')).toBe('EUR 3.00')
    expect(priceText(null)).toBe('')
  })
})
