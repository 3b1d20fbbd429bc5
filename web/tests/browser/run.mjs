// The browser tests: each scenario in turn against real nodes; screenshots in web/screenshots/.
import { browser as launch, screenshotPath, startNode, stopAll } from './harness.mjs'
import { operatorRunsTheirNetwork, readonlyStaffSeeButCannotChange, staffManageDriversAndWallets } from './console.mjs'
import { driverChargesFromTheApp } from './app.mjs'

const scenarios = [
  ['an operator logs in, creates a site, registers a charger and sees it come online', operatorRunsTheirNetwork],
  ['a readonly account sees but cannot change', readonlyStaffSeeButCannotChange],
  ['a driver on a phone finds a charger, starts, watches the cost rise, stops and reads the receipt; another sees none of it', driverChargesFromTheApp],
  ['staff manage drivers, wallets, staff accounts and API keys, and read the ledger', staffManageDriversAndWallets],
]

let failed = 0
const browser = await launch()
try {
  const node = await startNode('member')
  for (const [name, scenario] of scenarios) {
    const started = Date.now()
    try {
      await scenario(browser, node)
      console.log(`ok   ${name} (${((Date.now() - started) / 1000).toFixed(1)} s)`)
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
      console.log(`     the node's log: ${node.dir}/node.log`)
    }
  }
} finally {
  await browser.close()
  stopAll()
}
console.log(failed ? `${failed} of ${scenarios.length} browser scenarios failed` : `all ${scenarios.length} browser scenarios passed`)
process.exit(failed ? 1 : 0)
