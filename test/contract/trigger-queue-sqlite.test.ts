import {mkdtemp, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {openLocalDatabase} from '../../src/adapters/local/sqlite-store.js'
import {SqliteTriggerQueue} from '../../src/adapters/local/sqlite-trigger-queue.js'
import {triggerQueueContract} from './trigger-queue-contract.js'

triggerQueueContract('SQLite (devflow local)', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'devflow-queue-'))
  const db = openLocalDatabase(join(dir, 'devflow.db'))
  return {
    queue: new SqliteTriggerQueue(db),
    cleanup: async () => {
      db.close()
      await rm(dir, {recursive: true, force: true})
    },
  }
})
