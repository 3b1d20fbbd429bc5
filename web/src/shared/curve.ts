// A charge's curve from its charger's meter values: energy since the start (kWh) and power (kW) at
// each sample. Power is the charger's own reading where it sends one, else the average over the
// time since the previous energy reading.

export interface MeterValue {
  sampled_at: string
  measurand: string
  unit: string
  value: string
  register_mwh: number | null
}

export interface CurvePoint {
  at: number
  energyKwh: number | null
  powerKw: number | null
}

const ENERGY = 'Energy.Active.Import.Register'
const POWER = 'Power.Active.Import'

export function chargingCurve(values: MeterValue[], meterStartMwh: number): CurvePoint[] {
  const byTime = new Map<number, CurvePoint>()
  const point = (at: number) => {
    let found = byTime.get(at)
    if (!found) byTime.set(at, (found = { at, energyKwh: null, powerKw: null }))
    return found
  }
  for (const value of values) {
    const at = Date.parse(value.sampled_at)
    if (value.measurand === ENERGY && value.register_mwh !== null) {
      point(at).energyKwh = (value.register_mwh - meterStartMwh) / 1_000_000
    } else if (value.measurand === POWER) {
      const reading = Number(value.value)
      if (Number.isFinite(reading)) point(at).powerKw = value.unit === 'kW' ? reading : reading / 1000
    }
  }
  const points = [...byTime.values()].sort((a, b) => a.at - b.at)
  let previous: CurvePoint | undefined
  for (const p of points) {
    if (p.energyKwh === null) continue
    if (p.powerKw === null && previous && p.at > previous.at) {
      p.powerKw = Math.max(0, ((p.energyKwh - (previous.energyKwh ?? 0)) * 3_600_000) / (p.at - previous.at))
    }
    previous = p
  }
  return points
}
