import { describe, expect, it } from 'vitest'
import { chargingCurve, type MeterValue } from '../../src/shared/curve'

const energy = (at: string, mwh: number): MeterValue => ({
  sampled_at: at,
  measurand: 'Energy.Active.Import.Register',
  unit: 'Wh',
  value: String(mwh / 1000),
  register_mwh: mwh,
})
const power = (at: string, value: string, unit = 'W'): MeterValue => ({
  sampled_at: at,
  measurand: 'Power.Active.Import',
  unit,
  value,
  register_mwh: null,
})

describe('the charging curve', () => {
  it('counts energy from the session start and takes the charger power where it is sent', () => {
    const curve = chargingCurve(
      [energy('2026-12-06T01:01:00Z', 1_500_000), power('2026-12-06T01:01:00Z', '48000'), energy('2026-12-06T01:00:00Z', 1_000_000)],
      1_000_000,
    )
    expect(curve.map((p) => [p.energyKwh, p.powerKw])).toEqual([
      [0, null],
      [0.5, 48],
    ])
  })

  it('derives power from energy where the charger sends none', () => {
    const curve = chargingCurve([energy('2026-12-06T01:00:00Z', 0), energy('2026-12-06T01:00:36Z', 500_000)], 0)
    expect(curve[1].powerKw).toBeCloseTo(50)
  })

  it('reads kW as sent', () => {
    expect(chargingCurve([power('2026-12-06T01:00:00Z', '7.2', 'kW')], 0)[0].powerKw).toBe(7.2)
  })
})
