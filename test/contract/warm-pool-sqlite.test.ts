import {SqliteUsageStore} from '../../src/adapters/local/sqlite-usage-store.js'
import {chmod, mkdtemp, readFile, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {ProcessRuntime, stopRecordedWorkspaces} from '../../src/adapters/local/process-runtime.js'
import {openLocalDatabase, SqlitePromptStore, SqliteSessionStore} from '../../src/adapters/local/sqlite-store.js'
import {SqliteWarmPoolStore} from '../../src/adapters/local/sqlite-warm-pool-store.js'
import {warmPoolContract} from './warm-pool-contract.js'

// Host processes as the runtime, as `devflow local` runs them: each task is a stand-in entrypoint
// that only waits, so that the pool's rules are what is tested here (the real entrypoint's warm
// path has its own e2e test).
warmPoolContract('SQLite with host processes (devflow local)', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'devflow-warm-'))
  const entrypoint = join(dir, 'entrypoint.sh')
  await writeFile(entrypoint, '#!/bin/sh\nexec sleep 300\n')
  await chmod(entrypoint, 0o755)
  const dataDir = join(dir, 'data')
  const db = openLocalDatabase(join(dataDir, 'devflow.db'))
  const runtime = new ProcessRuntime({dataDir, entrypoint, stopGraceMs: 1000, environment: () => ({PATH: process.env.PATH})})
  const taskFile = async (taskArn: string) => JSON.parse(await readFile(join(runtime.sessionDir(taskArn.split(':').at(-1) as string), 'task.json'), 'utf8')) as {pid: number}
  return {
    sessions: new SqliteSessionStore(db),
    prompts: new SqlitePromptStore(db),
    usage: new SqliteUsageStore(db),
    warm: new SqliteWarmPoolStore(db),
    runtime,
    async proofOf(record) {
      return {kind: 'nonce', nonce: (await readFile(join(runtime.sessionDir(record.id), 'bootstrap-nonce'), 'utf8')).trim()}
    },
    async kill(taskArn) {
      process.kill(-(await taskFile(taskArn)).pid, 'SIGKILL')
      // The group is gone once its leader no longer answers.
      for (let i = 0; i < 50 && (await runtime.describe(taskArn))?.lastStatus === 'RUNNING'; i++) await new Promise((resolve) => setTimeout(resolve, 20))
    },
    async isRunning(taskArn) {
      return (await runtime.describe(taskArn))?.lastStatus === 'RUNNING'
    },
    async cleanup() {
      await stopRecordedWorkspaces(dataDir, 'test over', 1000)
      db.close()
      await rm(dir, {recursive: true, force: true})
    },
  }
})
