// One app charges everywhere: a driver of one member charges at another member's charger, watches
// the cost rise, stops, and reads the receipt with the consortium ledger's record.
import assert from 'node:assert/strict'
import { accessible, eventually, phone, screenshotPath, simulate } from './harness.mjs'

/** Member B's charger, priced, in service, waiting for drivers' apps. */
async function chargerOf(member) {
  const operator = await member.api('POST', '/operators', { name: 'Futian Charging' })
  const site = await member.api('POST', '/sites', {
    operator_id: operator.id,
    name: 'Futian Hub',
    time_zone: 'Asia/Shanghai',
    latitude: 22.541,
    longitude: 114.055,
    city: 'Shenzhen',
    address: 'Futian 1',
  })
  await member.api('POST', '/tariffs', {
    operator_id: operator.id,
    id: 'futian-flat',
    currency: 'CNY',
    tax: { rate: '13', included: false },
    valid_from: new Date(Date.now() - 3_600_000).toISOString(),
    time_of_use: { flat: { electricity: '0.5', service: '0.5' }, schedules: [{ slots: [{ start: '00:00', end: '24:00', period: 'flat' }] }] },
  })
  await member.api('PUT', `/sites/${site.id}/tariff`, { tariff_id: 'futian-flat' })
  await member.api('POST', '/chargers', { station_id: 'FT-1', operator_id: operator.id, site_id: site.id })
  await member.api('PUT', '/chargers/FT-1/commissioning', {
    max_power_watts: 60000,
    connectors: ['gbt_dc'],
    metering_certificate: 'CPA-2025-0101',
    calibration_certificate: 'CAL-2026-0101',
    calibration_expires_at: '2027-06-30T00:00:00+08:00',
  })
  simulate(member, ['FT-1'], [], ['--sample-secs', '1', '--samples', '600'])
}

export async function driverChargesAtAnotherMember(browser, [home, away]) {
  await chargerOf(away)
  const operator = await home.api('POST', '/operators', { name: 'Nanshan Mobility' })
  for (const username of ['roamer', 'stay-home']) {
    await home.api('POST', '/drivers', { username, password: `${username}-password-2026`, operator_id: operator.id, payment_method: 'sandbox:visa-4242' })
  }
  // The ledger prices a charge by the tariff it held when the charge began: wait until it holds it.
  await eventually(async () => JSON.stringify(await away.api('GET', '/ledger/tariffs')).includes('futian-flat'), 'the tariff on the ledger', 60000)
  // The other member's charger reaches this member's drivers once the members have exchanged
  // locations.
  const login = await home.api('POST', '/driver/login', { username: 'roamer', password: 'roamer-password-2026' }, null)
  await eventually(
    async () => (await home.api('GET', '/driver/chargers?available=true', undefined, login.token)).some((c) => c.operator === 'CN-M02'),
    "the other member's charger found",
    60000,
  )

  const context = await phone(browser, { latitude: 22.54, longitude: 114.05 })
  const page = await context.newPage()
  await page.goto(`${home.url}/app/`)
  await page.fill('input[name=username]', 'roamer')
  await page.fill('input[name=password]', 'roamer-password-2026')
  await page.getByRole('button', { name: 'Log in' }).click()
  await page.waitForURL((url) => url.pathname === '/app/')
  await page.locator('[data-test=charger]', { hasText: 'CN-M02' }).click()
  await page.locator('[data-test=price-now]').waitFor()
  await eventually(async () => /Available/.test(await page.locator('[data-test=charger-status]').textContent()), 'the charger available')
  await page.screenshot({ path: screenshotPath('app-roaming-charger-en'), fullPage: true })
  await page.locator('[data-test=start]').click()
  await page.waitForURL(/\/app\/charges\/roaming-/)

  const cost = page.locator('[data-test=charge-cost]')
  await eventually(async () => /¥/.test(await cost.textContent()), 'a cost so far', 60000)
  const first = await cost.textContent()
  await eventually(async () => (await cost.textContent()) !== first, 'the cost to rise', 60000)
  await accessible(page, 'the roaming charge page')
  await page.screenshot({ path: screenshotPath('app-roaming-live-en') })
  await page.locator('[data-test=stop]').click()
  await page.locator('[data-test=receipt-ledger]').waitFor({ timeout: 90000 })
  await page.screenshot({ path: screenshotPath('app-roaming-receipt-en'), fullPage: true })
  // The other member saw a pseudonym, never the driver's token.
  const [session] = await away.api('GET', '/sessions?limit=1')
  const [token] = (await home.api('GET', `/drivers/${(await home.api('GET', '/drivers')).find((d) => d.username === 'roamer').id}`)).tokens
  assert.notEqual(session.id_token, token.id_token)
  await context.close()

  const other = await phone(browser)
  const theirs = await other.newPage()
  await theirs.goto(`${home.url}/app/`)
  await theirs.fill('input[name=username]', 'stay-home')
  await theirs.fill('input[name=password]', 'stay-home-password-2026')
  await theirs.getByRole('button', { name: 'Log in' }).click()
  await theirs.waitForURL((url) => url.pathname === '/app/')
  assert.deepEqual(await theirs.evaluate(async () => (await fetch('/api/v1/driver/charges')).json()), [])
  await other.close()
}
