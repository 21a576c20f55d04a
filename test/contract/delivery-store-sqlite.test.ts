import {mkdtemp, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {openLocalDatabase} from '../../src/adapters/local/sqlite-store.js'
import {SqliteDeliveryStore} from '../../src/adapters/local/sqlite-delivery-store.js'
import {deliveryStoreContract} from './delivery-store-contract.js'

deliveryStoreContract('SQLite (devflow local)', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'devflow-deliveries-'))
  const db = openLocalDatabase(join(dir, 'devflow.db'))
  return {
    deliveries: new SqliteDeliveryStore(db),
    cleanup: async () => {
      db.close()
      await rm(dir, {recursive: true, force: true})
    },
  }
})
