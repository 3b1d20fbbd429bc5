// The browser tests: each scenario in turn against real nodes — one member's node, or a consortium
// of two — started once for the scenarios that need them; screenshots in web/screenshots/.
import { browser as launch, screenshotPath, startConsortium, startNode, stopAll } from './harness.mjs'
import { operatorRunsTheirNetwork, readonlyStaffSeeButCannotChange, staffManageDriversAndWallets } from './console.mjs'
import { driverChargesFromTheApp, driverSignsUpWithTheirPhone } from './app.mjs'
import { driverChargesAtAnotherMember } from './roaming.mjs'

const scenarios = [
  ['an operator logs in, creates a site, registers a charger and sees it come online', operatorRunsTheirNetwork, 'member'],
  ['a readonly account sees but cannot change', readonlyStaffSeeButCannotChange, 'member'],
  ['a driver on a phone finds a charger, starts, watches the cost rise, stops and reads the receipt; another sees none of it', driverChargesFromTheApp, 'member'],
  ['a new driver signs up in the app with their phone number once sign-up is open', driverSignsUpWithTheirPhone, 'member'],
  ['staff manage drivers, wallets, staff accounts and API keys, and read the ledger', staffManageDriversAndWallets, 'member'],
  ["a driver charges at another member's charger and reads the receipt with the ledger's record", driverChargesAtAnotherMember, 'consortium'],
]

const started = {}
// The member's maps name a tile server (unreachable here: the tiles are placed, not loaded).
const TILES = { CHARGEMESH_API__MAP_TILES: 'https://tiles.invalid/{z}/{x}/{y}.png', CHARGEMESH_API__MAP_ATTRIBUTION: '© test tiles' }
const fixtures = { member: () => startNode('member', TILES), consortium: () => startConsortium(2) }
const fixture = (kind) => (started[kind] ??= fixtures[kind]())
const logs = (nodes) => [nodes].flat().map((node) => `${node.dir}/node.log`).join(', ')

let failed = 0
const browser = await launch()
try {
  for (const [name, scenario, kind] of scenarios) {
    const began = Date.now()
    const nodes = await fixture(kind)
    try {
      await scenario(browser, nodes)
      console.log(`ok   ${name} (${((Date.now() - began) / 1000).toFixed(1)} s)`)
    } catch (error) {
      // What each open page showed when it failed, for the reader of the log.
      let shot = 0
      for (const context of browser.contexts()) {
        for (const page of context.pages()) {
          await page.screenshot({ path: screenshotPath(`failed-${failed}-${shot++}`), fullPage: true }).catch(() => undefined)
        }
        await context.close().catch(() => undefined)
      }
      failed += 1
      console.log(`FAIL ${name}\n     ${error.stack ?? error}`)
      console.log(`     the nodes' logs: ${logs(nodes)}`)
    }
  }
} finally {
  await browser.close()
  stopAll()
}
console.log(failed ? `${failed} of ${scenarios.length} browser scenarios failed` : `all ${scenarios.length} browser scenarios passed`)
process.exit(failed ? 1 : 0)
