// The drivers' app on a phone (English).
import assert from 'node:assert/strict'
import { accessible, screenshotPath } from './harness.mjs'

const PHONE = {
  viewport: { width: 390, height: 844 },
  deviceScaleFactor: 2,
  isMobile: true,
  hasTouch: true,
  locale: 'en-GB',
  timezoneId: 'Asia/Shanghai',
  geolocation: { latitude: 22.53, longitude: 113.93 },
  permissions: ['geolocation'],
}

export async function driverFindsChargers(browser, node) {
  await node.api('POST', '/drivers', { username: 'li-wei', password: 'li-wei-password-2026', operator_id: 1 })
  const context = await browser.newContext(PHONE)
  await context.addInitScript(() => localStorage.setItem('chargemesh.locale', 'en'))
  const page = await context.newPage()
  await page.goto(`${node.url}/app/`)
  await page.waitForURL(/\/app\/login/)
  await accessible(page, 'the app login')
  await page.screenshot({ path: screenshotPath('app-login-en') })
  await page.fill('input[name=username]', 'li-wei')
  await page.fill('input[name=password]', 'wrong-password-entirely')
  await page.getByRole('button', { name: 'Log in' }).click()
  await page.getByRole('alert').filter({ hasText: 'Not logged in' }).waitFor()
  await page.fill('input[name=password]', 'li-wei-password-2026')
  await page.getByRole('button', { name: 'Log in' }).click()
  await page.waitForURL((url) => url.pathname === '/app/')
  const cookies = await context.cookies()
  assert.ok(cookies.find((c) => c.name === 'cm_driver')?.httpOnly)
  assert.equal(cookies.find((c) => c.name === 'cm_staff'), undefined)
  await page.getByText('Chargers').first().waitFor()
  const found = page.locator('[data-test=charger]')
  await found.first().waitFor()
  assert.match(await found.first().textContent(), /南山 P2/)
  assert.match(await found.first().textContent(), /60 kW/)
  await accessible(page, 'the app charger list')
  await page.screenshot({ path: screenshotPath('app-find-en') })
  await context.close()
}
