import { describe, expect, it } from 'vitest'
import { answerOf, blankCommand, fieldsOf, requestOf, COMMANDS } from '../../src/console/chargers/commands'

describe('charger commands', () => {
  const now = new Date('2026-12-06T02:00:00Z')

  it('send what the API takes for each command', () => {
    const form = { ...blankCommand(), connector: 2, idToken: ' CARD-1 ', reservationId: 7, expiryMinutes: 15 }
    expect(requestOf({ ...form, kind: 'remote_start' }, now)).toEqual({ command: 'remote_start', connector: 2, id_token: 'CARD-1' })
    expect(requestOf({ ...form, kind: 'reserve_now' }, now)).toEqual({
      command: 'reserve_now',
      connector: 2,
      id_token: 'CARD-1',
      reservation_id: 7,
      expiry: '2026-12-06T02:15:00.000Z',
    })
    expect(requestOf({ ...form, kind: 'get_configuration', key: '' }, now)).toEqual({ command: 'get_configuration', keys: [] })
    expect(requestOf({ ...form, kind: 'trigger_message', connector: 0 }, now)).toEqual({
      command: 'trigger_message',
      message: 'StatusNotification',
      connector: null,
    })
  })

  it('ask only for the fields each command uses', () => {
    for (const kind of COMMANDS) {
      const request = requestOf({ ...blankCommand(), kind }, now)
      expect(request.command).toBe(kind)
    }
    expect(fieldsOf('clear_cache')).toEqual([])
    expect(fieldsOf('change_configuration')).toEqual(['key', 'value'])
  })

  it('read the answer in a line', () => {
    expect(answerOf({ state: 'answered', outcome: { outcome: 'status', status: 'Accepted' }, error: null })).toBe('Accepted')
    expect(answerOf({ state: 'failed', outcome: null, error: 'not connected' })).toBe('not connected')
    expect(
      answerOf({ state: 'answered', outcome: { outcome: 'configuration', known: [{ key: 'HeartbeatInterval', value: '300' }], unknown: ['Foo'] }, error: null }),
    ).toBe('HeartbeatInterval=300, Foo: ?')
  })
})
