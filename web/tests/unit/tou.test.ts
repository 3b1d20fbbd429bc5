import { describe, expect, it } from 'vitest'
import { blankModel, fieldKey, fromElements, mergeAlike, minutesOf, moveBoundary, removeSlot, splitSlot, toDraft, type Slot } from '../../src/console/tariffs/tou'

const day: Slot[] = [
  { start: 0, end: 480, period: 'valley' },
  { start: 480, end: 1080, period: 'flat' },
  { start: 1080, end: 1440, period: 'peak' },
]

describe('editing a day of slots', () => {
  it('moves a boundary on quarter hours, never past a neighbour', () => {
    expect(moveBoundary(day, 0, 500).map((s) => [s.start, s.end])).toEqual([[0, 495], [495, 1080], [1080, 1440]])
    expect(moveBoundary(day, 0, -100)[0].end).toBe(15)
    expect(moveBoundary(day, 1, 5000)[1].end).toBe(1425)
    expect(moveBoundary(day, 2, 100)).toBe(day)
  })

  it('splits a slot in the middle and removes one into its neighbour', () => {
    expect(splitSlot(day, 1).map((s) => [s.start, s.end])).toEqual([[0, 480], [480, 780], [780, 1080], [1080, 1440]])
    expect(splitSlot([{ start: 0, end: 15, period: 'flat' }], 0)).toHaveLength(1)
    expect(removeSlot(day, 1).map((s) => [s.start, s.end, s.period])).toEqual([[0, 1080, 'valley'], [1080, 1440, 'peak']])
    expect(removeSlot(day, 0).map((s) => [s.start, s.end])).toEqual([[0, 1080], [1080, 1440]])
  })

  it('merges neighbours of the same period', () => {
    const split = splitSlot(day, 1)
    expect(mergeAlike(split)).toEqual(day)
  })

  it('reads times of day, 24:00 included', () => {
    expect(minutesOf('08:30')).toBe(510)
    expect(minutesOf('24:00')).toBe(1440)
    expect(minutesOf('24:30')).toBeNull()
    expect(minutesOf('8h')).toBeNull()
  })
})

describe('the draft and saved versions', () => {
  const model = blankModel()
  model.prices.valley = { electricity: '0.228', service: '0.8' }
  model.prices.flat = { electricity: '0.6', service: '0.8' }
  model.prices.peak = { electricity: '1.02', service: '0.8' }
  model.schedules = [
    { seasonFrom: '07-01', seasonTo: '09-30', slots: day },
    { seasonFrom: '', seasonTo: '', slots: [{ start: 0, end: 1440, period: 'flat' }] },
  ]
  model.idleFeePerHour = '2'

  it('sends the API the shape it takes, only the periods used', () => {
    const draft = toDraft(model) as any
    expect(draft.schedules[0]).toEqual({
      season: { from: '07-01', to: '09-30' },
      slots: [
        { start: '00:00', end: '08:00', period: 'valley' },
        { start: '08:00', end: '18:00', period: 'flat' },
        { start: '18:00', end: '24:00', period: 'peak' },
      ],
    })
    expect(draft.schedules[1].season).toBeUndefined()
    expect(draft.sharp).toBeUndefined()
    expect(draft.peak).toEqual({ electricity: '1.02', service: '0.8' })
    expect(draft.idle_fee_per_hour).toBe('2')
  })

  it('reads a saved version back, across midnight too', () => {
    const priced = (label: string, energy: string, restrictions: Record<string, string>) => ({
      label,
      components: [{ kind: 'energy', price: energy }, { kind: 'service_fee', price: '0.8' }],
      restrictions,
    })
    const back = fromElements([
      priced('valley', '0.228', { start_time: '22:00', end_time: '08:00' }),
      priced('flat', '0.6', { start_time: '08:00', end_time: '22:00' }),
      { label: 'idle', components: [{ kind: 'idle_time', price: '2' }] },
    ])!
    expect(back.schedules).toHaveLength(1)
    expect(back.schedules[0].slots).toEqual([
      { start: 0, end: 480, period: 'valley' },
      { start: 480, end: 1320, period: 'flat' },
      { start: 1320, end: 1440, period: 'valley' },
    ])
    expect(back.prices.valley.electricity).toBe('0.228')
    expect(back.idleFeePerHour).toBe('2')
  })

  it('leaves elements that are no time-of-use shape alone', () => {
    expect(fromElements([{ label: 'peak', components: [{ kind: 'energy', price: '1' }], restrictions: {} }])).toBeNull()
    expect(fromElements([{ components: [{ kind: 'flat', price: '1' }] }])).toBeNull()
  })

  it('names the editor field of each problem the node finds', () => {
    expect(fieldKey('time_of_use.schedules[0].slots[2].end')).toBe('schedules.0.slots.2.end')
    expect(fieldKey('time_of_use.peak.electricity')).toBe('prices.peak.electricity')
    expect(fieldKey('time_of_use.idle_fee_per_hour')).toBe('idleFeePerHour')
    expect(fieldKey('valid_from')).toBe('valid_from')
  })
})
