/**
 * The local platform's server process, started in the background by `devflow local up`:
 *   node server-main.js --data-dir DIR --port N
 *   [--runtime process|docker --image devflow-workspace:<tag>]
 * It serves the API router on 127.0.0.1 (the user routes behind the local token, the agent routes
 * behind their per-session tokens), reconciles sessions with their processes every few seconds,
 * and on TERM stops every session before it exits. `server.json` in the data dir says it is up.
 */
import {readFileSync, rmSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {parseArgs} from 'node:util'

import {userGithubToken} from '../adapters/local/github.js'
import {startHttpServer} from '../api/http-server.js'
import {createApiRouter, type RouterLogger} from '../api/router.js'
import {LOCAL_HOST, LocalPaths, packageRoot} from '../adapters/local/paths.js'
import {localConsole} from '../api/console-server.js'
import {requireLocalToken} from '../api/local-token.js'
import type {LocalRuntimeChoice, ServerState} from '../operations/local-platform.js'
import {createLocalPlatform} from './local.js'

const RECONCILE_INTERVAL_MS = 3000
/** How often the warm pool's keeper looks at the pool: a taken process is replaced at once anyway. */
const WARM_KEEP_INTERVAL_MS = 1000

async function main(): Promise<void> {
  // Everything this process and its workspaces create (the database and its WAL, logs, clones)
  // is the user's alone.
  process.umask(0o077)
  const {values} = parseArgs({options: {'data-dir': {type: 'string'}, port: {type: 'string'}, runtime: {type: 'string'}, image: {type: 'string'}, warm: {type: 'string'}}})
  const paths = new LocalPaths(values['data-dir'] as string)
  const port = Number(values.port)
  const token = readFileSync(paths.token, 'utf8').trim()
  const url = `http://${LOCAL_HOST}:${port}`

  const runtime: LocalRuntimeChoice = values.runtime === 'docker' ? {kind: 'docker', image: values.image as string} : {kind: 'process'}
  const warmTasks = Number(values.warm ?? 0)
  const platform = createLocalPlatform({dataDir: paths.dataDir, apiUrl: url, env: process.env, githubToken: await userGithubToken(process.env), runtime, warmTasks})
  const web = localConsole({port, token, consoleDir: join(packageRoot(), 'dist', 'console')})
  const router = requireLocalToken(createApiRouter(platform.services, {logger: serverLogLogger}))
  const http = await startHttpServer({
    router,
    host: LOCAL_HOST,
    port,
    identify: web.identify,
    intercept: web.intercept,
    loopbackHostsOnly: true,
    onError: (error) => log(`request failed: ${String((error as Error)?.stack ?? error)}`),
  })
  const state: ServerState = {pid: process.pid, port: http.port, url: `${http.url}/`, dataDir: paths.dataDir, runtime: runtime.kind, ...(runtime.kind === 'docker' ? {image: runtime.image} : {}), ...(platform.services.warmPool ? {warm: warmTasks} : {}), startedAt: new Date().toISOString()}
  writeFileSync(paths.server, JSON.stringify(state, undefined, 2), {mode: 0o600})
  log(`listening on ${state.url}`)

  let reconciling = false
  const timer = setInterval(() => {
    if (reconciling) return
    reconciling = true
    platform.services
      .reapSessions()
      .then((report) => report.failures.forEach((f) => log(`reconcile ${f.sessionId}: ${f.message}`)))
      .catch((error: unknown) => log(`reconcile failed: ${String(error)}`))
      .finally(() => (reconciling = false))
  }, RECONCILE_INTERVAL_MS)

  const warmTimer = platform.services.warmPool ? keepWarmPool(platform.services.warmPool) : undefined

  let stopping = false
  const shutdown = async (signal: string) => {
    if (stopping) return
    stopping = true
    clearInterval(timer)
    if (warmTimer) clearInterval(warmTimer)
    try {
      const drained = (await platform.services.warmPool?.drain()) ?? []
      if (drained.length > 0) log(`stopped ${drained.length} warm workspace(s)`)
    } catch (error) {
      log(`could not drain the warm pool: ${String(error)}`)
    }
    log(`${signal}: stopping every session`)
    try {
      const stopped = await platform.stopAllSessions()
      writeFileSync(`${paths.dataDir}/last-shutdown.json`, JSON.stringify({stoppedSessions: stopped, at: new Date().toISOString()}))
      log(`stopped ${stopped.length} session(s)`)
    } catch (error) {
      log(`could not stop every session: ${String(error)}`)
    }
    await http.close().catch(() => undefined)
    platform.close()
    rmSync(paths.server, {force: true})
    log('stopped')
    process.exit(0)
  }
  process.on('SIGTERM', () => void shutdown('SIGTERM'))
  process.on('SIGINT', () => void shutdown('SIGINT'))
}

/** The pool keeper on a timer (never two rounds at once), its failures into server.log. */
function keepWarmPool(pool: NonNullable<ReturnType<typeof createLocalPlatform>['services']['warmPool']>): NodeJS.Timeout {
  let keeping = false
  const round = () => {
    if (keeping) return
    keeping = true
    pool
      .keep()
      .then((report) => {
        for (const failure of report.failures) log(`warm pool${failure.id ? ` ${failure.id}` : ''}: ${failure.message}`)
        if (report.started.length + report.dropped.length + report.recycled.length > 0) log(`warm pool: started ${report.started.length}, dropped ${report.dropped.length}, recycled ${report.recycled.length} (target ${report.target})`)
      })
      .catch((error: unknown) => log(`warm pool failed: ${String(error)}`))
      .finally(() => (keeping = false))
  }
  round()
  return setInterval(round, WARM_KEEP_INTERVAL_MS)
}

/** The router's failures (every 5xx) into server.log; one line per request would drown them. */
const serverLogLogger: RouterLogger = {
  info() {},
  warn: (message, extra) => log(`${message} ${JSON.stringify(extra ?? {})}`),
  error: (message, extra) => log(`${message} ${JSON.stringify(extra ?? {})}`),
}

function log(message: string): void {
  process.stdout.write(`${new Date().toISOString()} devflow-local: ${message}\n`)
}

main().catch((error: unknown) => {
  const devflow = error as {code?: string; message?: string; hint?: string}
  process.stderr.write(`${JSON.stringify({error: {code: devflow.code ?? 'SERVER_FAILED', message: devflow.message ?? String(error), hint: devflow.hint ?? ''}})}\n`)
  process.exit(1)
})
