import {mkdtemp, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {openLocalDatabase, SqlitePromptStore, SqliteSessionStore} from '../../src/adapters/local/sqlite-store.js'
import {storeContract} from './store-contract.js'

storeContract('SQLite (devflow local)', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'devflow-store-'))
  const db = openLocalDatabase(join(dir, 'devflow.db'))
  return {
    sessions: new SqliteSessionStore(db),
    prompts: new SqlitePromptStore(db),
    cleanup: async () => {
      db.close()
      await rm(dir, {recursive: true, force: true})
    },
  }
})
