import { describe, expect, it } from 'vitest'
import { battery } from '../../src/shared/battery'

const soc = (at: string, value: string) => ({ sampled_at: at, measurand: 'SoC', unit: 'Percent', value, register_mwh: null })
const energy = (at: string) => ({ sampled_at: at, measurand: 'Energy.Active.Import.Register', unit: 'Wh', value: '1', register_mwh: 1000 })

describe('the battery', () => {
  it('is full at the pace of the last minutes', () => {
    const values = [soc('2026-12-06T08:00:00Z', '20'), soc('2026-12-06T08:10:00Z', '30'), soc('2026-12-06T08:20:00Z', '40'), energy('2026-12-06T08:20:00Z')]
    const found = battery(values)!
    expect(found.soc).toBe(40)
    // 10 % in the last 10 minutes: 60 % more takes an hour.
    expect(new Date(found.fullAt!).toISOString()).toBe('2026-12-06T09:20:00.000Z')
  })

  it('says nothing without readings, and no time while it does not fill', () => {
    expect(battery([energy('2026-12-06T08:00:00Z')])).toBeNull()
    expect(battery([soc('2026-12-06T08:00:00Z', '55.5')])).toEqual({ soc: 55.5, fullAt: null })
    expect(battery([soc('2026-12-06T08:00:00Z', '60'), soc('2026-12-06T08:01:00Z', '60')])?.fullAt).toBeNull()
  })

  it('is full once it reports 100', () => {
    expect(battery([soc('2026-12-06T08:00:00Z', '99'), soc('2026-12-06T08:01:00Z', '100')])).toEqual({ soc: 100, fullAt: Date.parse('2026-12-06T08:01:00Z') })
  })
})
