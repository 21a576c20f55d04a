#!/usr/bin/env node
// Prints the time to RUNNING (start request -> the agent's first heartbeat, the session's
// timeToRunningMs) of sessions on the sample project on the local platform (host processes), with
// `local up --warm 1` and without a pool, plus the steps measured on their own: the clone of the
// sample project and the workspace script's boot up to its first API call. Target: a warm start
// RUNNING in well under a second. Needs `npm run build`. RUNS=5 by default.
import {execFileSync, spawnSync} from 'node:child_process'
import {existsSync, mkdtempSync, readFileSync, rmSync} from 'node:fs'
import {createServer} from 'node:net'
import {tmpdir} from 'node:os'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const cli = join(root, 'bin', 'run.js')
if (!existsSync(join(root, 'oclif.manifest.json'))) execFileSync('npm', ['run', 'build', '--silent'], {cwd: root, stdio: 'inherit'})
const runs = Number(process.env.RUNS ?? 5)
const sample = join(root, 'examples', 'sample-repo')

const home = mkdtempSync(join(tmpdir(), 'devflow-bench-warm-'))
const dataDir = join(home, 'data')
const env = {
  PATH: process.env.PATH,
  HOME: home,
  XDG_CONFIG_HOME: join(home, '.config'),
  NO_COLOR: '1',
  ANTHROPIC_API_KEY: 'sk-ant-bench',
  CODE_SERVER_BIN: join(home, 'no-code-server'),
  GITHUB_TOKEN: '',
  AWS_EC2_METADATA_DISABLED: 'true',
}
const devflow = (...args) => {
  const result = spawnSync(process.execPath, [cli, ...args], {env, encoding: 'utf8'})
  if (result.status !== 0) throw new Error(`devflow ${args.join(' ')} exited ${result.status}: ${result.stderr}`)
  return result.stdout
}
const port = await new Promise((resolve) => {
  const server = createServer().listen(0, '127.0.0.1', () => {
    const {port: free} = server.address()
    server.close(() => resolve(free))
  })
})
const base = `http://127.0.0.1:${port}`
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

async function api(method, path, body, attempt = 1) {
  const token = readFileSync(join(dataDir, 'token'), 'utf8').trim()
  // A kept-alive socket to the previous server (before local down) fails once: ask again.
  const response = await fetch(`${base}${path}`, {method, headers: {authorization: `Bearer ${token}`, 'content-type': 'application/json'}, ...(body ? {body: JSON.stringify(body)} : {})}).catch((error) => {
    if (attempt >= 3) throw error
    return undefined
  })
  return response ? response.json() : api(method, path, body, attempt + 1)
}

async function until(read, done, timeoutMs = 60_000, everyMs = 10) {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await read()
    if (done(value)) return value
    if (Date.now() > deadline) throw new Error(`timed out: ${JSON.stringify(value)}`)
    await sleep(everyMs)
  }
}

async function series(warm) {
  devflow('local', 'up', '--runtime', 'process', '--port', String(port), '--data-dir', dataDir, ...(warm ? ['--warm', '1'] : []))
  const samples = []
  try {
    for (let i = 0; i < runs; i++) {
      if (warm) await until(() => api('GET', '/health'), (h) => h.warmPool?.warm === 1, 60_000, 50)
      const wallStart = performance.now()
      const started = await api('POST', '/sessions', {repo: sample})
      if (!started.id) throw new Error(JSON.stringify(started))
      const running = await until(() => api('GET', `/sessions/${started.id}`), (s) => s.status === 'RUNNING' || s.status === 'FAILED')
      if (running.status !== 'RUNNING' || Boolean(running.warm) !== warm) throw new Error(`unexpected session: ${JSON.stringify(running)}`)
      samples.push({recorded: running.timeToRunningMs, wall: performance.now() - wallStart})
      await api('DELETE', `/sessions/${started.id}`)
    }
  } finally {
    devflow('local', 'down', '--data-dir', dataDir)
  }
  return samples
}

function stats(values) {
  const sorted = [...values].sort((a, b) => a - b)
  return `median ${sorted[Math.floor(sorted.length / 2)].toFixed(0)} ms (min ${sorted[0].toFixed(0)}, max ${sorted.at(-1).toFixed(0)})`
}

function cloneMs() {
  // The snapshot the local platform clones from exists after the first start.
  const snapshot = join(dataDir, 'repos', 'sample-repo.git')
  const samples = []
  for (let i = 0; i < runs; i++) {
    const target = join(home, `clone-${i}`)
    const start = performance.now()
    execFileSync('git', ['clone', '--quiet', '--branch', 'main', snapshot, target])
    samples.push(performance.now() - start)
    rmSync(target, {recursive: true, force: true})
  }
  return samples
}

try {
  const cold = await series(false)
  const warm = await series(true)
  const clone = cloneMs()
  console.log(`runs: ${runs} each, sample project, host processes`)
  console.log(`cold start, time to RUNNING (recorded): ${stats(cold.map((s) => s.recorded))}; start request to RUNNING seen by a 10 ms poll: ${stats(cold.map((s) => s.wall))}`)
  console.log(`warm start, time to RUNNING (recorded): ${stats(warm.map((s) => s.recorded))}; start request to RUNNING seen by a 10 ms poll: ${stats(warm.map((s) => s.wall))}`)
  console.log(`clone of the sample project alone: ${stats(clone)}`)
  const median = (list) => [...list].sort((a, b) => a - b)[Math.floor(list.length / 2)]
  const warmMedian = median(warm.map((s) => s.recorded))
  console.log(`warm / cold: ${(warmMedian / median(cold.map((s) => s.recorded))).toFixed(2)}x; warm median ${warmMedian < 1000 ? 'under' : 'OVER'} the 1 s target`)
} finally {
  rmSync(home, {recursive: true, force: true})
}
