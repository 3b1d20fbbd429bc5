// The driver's own member, asked once: its chargers start at once, other members' may be reserved.
import { call } from '../shared/api'

let member: Promise<string> | undefined

export function ownMember(): Promise<string> {
  member ??= call<{ member: string }>('driver', 'GET', '/driver/me').then((me) => me.member)
  member.catch(() => (member = undefined))
  return member
}
