import {mkdtemp, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {openLocalDatabase} from '../../src/adapters/local/sqlite-store.js'
import {SqliteUsageStore} from '../../src/adapters/local/sqlite-usage-store.js'
import {usageStoreContract} from './usage-store-contract.js'

usageStoreContract('SQLite (devflow local)', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'devflow-usage-'))
  const db = openLocalDatabase(join(dir, 'devflow.db'))
  return {
    usage: new SqliteUsageStore(db),
    cleanup: async () => {
      db.close()
      await rm(dir, {recursive: true, force: true})
    },
  }
})
