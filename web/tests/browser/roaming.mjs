// One app charges everywhere: a driver of one member charges at another member's charger, watches
// the cost rise, stops, and reads the receipt with the consortium ledger's record.
import assert from 'node:assert/strict'
import { ADMIN_PASSWORD, DESKTOP, accessible, appLogIn, consoleLogIn, eventually, phone, screenshotPath, simulate } from './harness.mjs'

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
  await appLogIn(page, home, 'roamer', 'roamer-password-2026')
  await page.locator('[data-test=charger]', { hasText: 'CN-M02' }).click()
  await page.locator('[data-test=price-now]').waitFor()
  await eventually(async () => /Available/.test(await page.locator('[data-test=charger-status]').textContent()), 'the charger available')
  await page.screenshot({ path: screenshotPath('app-roaming-charger-en'), fullPage: true })
  // Reserved first (the other member's charger holds it), then the reservation given up.
  const chargerPage = page.url()
  await page.locator('[data-test=reserve]').click()
  await page.waitForURL(/\/app\/charges\/roaming-/)
  const state = page.locator('[data-test=charge-state]')
  await eventually(async () => /^Reserved$/.test((await state.textContent()).trim()), 'the charger reserved', 60000)
  await accessible(page, 'the reserved charge')
  await page.screenshot({ path: screenshotPath('app-reserved-en') })
  await page.locator('[data-test=cancel-reservation]').click()
  await eventually(async () => /Reservation cancelled/.test(await state.textContent()), 'the reservation cancelled', 60000)
  await eventually(async () => {
    await page.goto(chargerPage)
    return /Available/.test(await page.locator('[data-test=charger-status]').textContent())
  }, 'the charger available again', 60000)
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
  await appLogIn(theirs, home, 'stay-home', 'stay-home-password-2026')
  assert.deepEqual(await theirs.evaluate(async () => (await fetch('/api/v1/driver/charges')).json()), [])
  await other.close()

  // The home member's console: the charge among its drivers' roaming charges, settled against the
  // ledger, with the ledger's record and proof; the clearing and federation tabs.
  const staff = await browser.newContext(DESKTOP)
  const console_ = await staff.newPage()
  await consoleLogIn(console_, home, 'admin', ADMIN_PASSWORD)
  await console_.getByRole('menuitem', { name: '漫游互联' }).click()
  const row = console_.locator('[data-test=roaming-starts] tbody tr').first()
  await eventually(async () => /CN-M02/.test(await row.textContent()), 'the roaming charge listed')
  await eventually(async () => /已扣款|已核对/.test(await row.textContent()), 'the charge settled against the ledger', 60000)
  await row.getByRole('button', { name: '账本记录' }).click()
  await eventually(async () => /"proof"/.test(await console_.locator('[data-test=ledger-record]').textContent()), 'the record with its proof')
  await eventually(async () => (await console_.locator('.el-drawer').boundingBox())?.x <= 700, 'the drawer opened')
  await console_.screenshot({ path: screenshotPath('console-roaming-record-zh') })
  await console_.keyboard.press('Escape')
  await accessible(console_, 'the roaming page')
  await console_.screenshot({ path: screenshotPath('console-roaming-zh') })
  await console_.getByRole('tab', { name: '互联' }).click()
  await console_.locator('[data-test=outbox-empty]').waitFor()
  await console_.getByRole('tab', { name: '清分' }).click()
  await accessible(console_, 'the clearing tab')
  await staff.close()
}
