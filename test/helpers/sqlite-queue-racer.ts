/**
 * One of several processes racing over one SQLite file (trigger-queue-sqlite-race.test.ts): at
 * the agreed moment it asks for the repository's drain lock, then tries to take every item it saw
 * pending beforehand (in its own random order), and prints what it won as one JSON line.
 *   node --import tsx sqlite-queue-racer.ts DB_FILE HOLDER START_AT_MS
 */
import {openLocalDatabase} from '../../src/adapters/local/sqlite-store.js'
import {SqliteTriggerQueue} from '../../src/adapters/local/sqlite-trigger-queue.js'

const [file, holder, startAt] = process.argv.slice(2)
const queue = new SqliteTriggerQueue(openLocalDatabase(file))
// Every racer sees every item waiting, then tries them in its own order.
const pending = (await queue.pending('acme/app')).sort(() => Math.random() - 0.5)
while (Date.now() < Number(startAt)) await new Promise((resolve) => setTimeout(resolve, 5))
const at = new Date().toISOString()
const until = new Date(Date.now() + 120_000).toISOString()
const locked = await queue.lock('acme/app', holder, at, until)
const taken: string[] = []
for (const item of pending) {
  if (await queue.take(item.id, new Date().toISOString(), until)) taken.push(item.id)
}
process.stdout.write(`${JSON.stringify({holder, locked, taken})}\n`)
