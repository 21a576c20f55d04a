#!/usr/bin/env node
// The platform's own latency around a prompt, on the local platform, p50/p95 over PROMPTS prompts
// (default 10), with the platform's default timings (no DEVFLOW_POLL_INTERVAL_MS,
// POLL_WAIT_SECONDS or EVENT_FLUSH_INTERVAL_SECONDS). Runs the built CLI (`npm run build` first).
//  1. `devflow session prompt --wait` end to end (the CLI as a process) with the real agent loop
//     (container/ai-workflow.sh) and the stub `claude` of container/test/fixtures, which answers
//     at once; with where the time goes, from the server's timestamps. Target: p50 <= 1 s.
//  2. The same with an agent that costs nothing (bench/lib/instant-agent.mjs), from the CLI and
//     from plain HTTP requests (POST the prompt, long-poll its events to the end): what is left is
//     the platform's own (router, store, the long polls' wake-ups) and the CLI's start.
import {execFileSync, spawn} from 'node:child_process'
import {mkdir, mkdtemp, readFile, rm, symlink, writeFile} from 'node:fs/promises'
import {createServer} from 'node:net'
import {availableParallelism, tmpdir} from 'node:os'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const cli = join(root, 'bin', 'run.js')
const prompts = Number(process.env.PROMPTS ?? 10)
const TARGET_MS = 1000

function freePort() {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const {port} = server.address()
      server.close(() => resolve(port))
    })
  })
}

function percentile(samples, p) {
  const sorted = [...samples].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]
}

function git(args, cwd) {
  return execFileSync('git', args, {cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe']}).trim()
}

const dir = await mkdtemp(join(tmpdir(), 'devflow-bench-prompt-'))
const home = join(dir, 'home')
const bin = join(dir, 'bin')
await mkdir(home)
await mkdir(bin)
await symlink(join(root, 'container', 'test', 'fixtures', 'claude'), join(bin, 'claude'))
// No Docker engine: the process runtime.
await symlink(join(root, 'test', 'unit', 'adapters', 'local', 'fixtures', 'fake-docker'), join(bin, 'docker'))
await mkdir(join(dir, 'docker'))
await writeFile(join(dir, 'docker', 'engine-down'), '')

const env = {
  PATH: `${bin}:${process.env.PATH}`,
  HOME: home,
  XDG_CONFIG_HOME: join(home, '.config'),
  LANG: 'C.UTF-8',
  NO_COLOR: '1',
  AWS_CONFIG_FILE: join(home, 'aws-config'),
  AWS_SHARED_CREDENTIALS_FILE: join(home, 'aws-credentials'),
  AWS_EC2_METADATA_DISABLED: 'true',
  ANTHROPIC_API_KEY: 'sk-ant-bench',
  CODE_SERVER_BIN: join(dir, 'no-code-server'),
  GITHUB_TOKEN: '',
  FAKE_DOCKER_STATE: join(dir, 'docker'),
}

/** Runs the CLI; resolves with its stdout, wall time and wall-clock span, rejects on a non-zero exit. */
function devflow(args) {
  return new Promise((resolve, reject) => {
    const started = performance.now()
    const startedAt = Date.now()
    const child = spawn('node', [cli, ...args], {cwd: home, env, stdio: ['ignore', 'pipe', 'pipe']})
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk) => (stdout += chunk))
    child.stderr.on('data', (chunk) => (stderr += chunk))
    child.on('close', (code) => {
      const ms = performance.now() - started
      if (code === 0) resolve({stdout, ms, startedAt, endedAt: Date.now()})
      else reject(new Error(`devflow ${args.join(' ')} exited ${code}: ${stderr.slice(0, 2000)}`))
    })
  })
}

function f(ms) {
  return `${Math.round(ms)} ms`
}

const bare = join(dir, 'app.git')
const work = join(dir, 'app')
git(['init', '--quiet', '--bare', '--initial-branch=main', bare])
git(['clone', '--quiet', bare, work])
await writeFile(join(work, 'README.md'), '# app\n')
git(['add', 'README.md'], work)
git(['-c', 'user.name=Dev', '-c', 'user.email=dev@example.com', 'commit', '--quiet', '-m', 'initial'], work)
git(['push', '--quiet', 'origin', 'main'], work)

/** One platform run: `local up` with `extraEnv`, a session, a warm-up prompt, then `measure`. */
async function withPlatform(extraEnv, measure) {
  Object.assign(env, extraEnv)
  const port = await freePort()
  await devflow(['local', 'up', '--port', String(port)])
  try {
    const session = JSON.parse((await devflow(['session', 'start', '--stage', 'local', '--repo', bare, '--wait', '--timeout', '60s', '--json'])).stdout)
    // The agent's first prompt also sends the repository setup's events.
    await devflow(['session', 'prompt', session.id, '--stage', 'local', '--wait', '--timeout', '60s', '--json', 'warm up'])
    const token = (await readFile(join(home, '.local', 'share', 'devflow', 'local', 'token'), 'utf8')).trim()
    const api = (method, path, body) =>
      fetch(`http://127.0.0.1:${port}/${path}`, {method, headers: {authorization: `Bearer ${token}`, 'content-type': 'application/json'}, ...(body ? {body: JSON.stringify(body)} : {})}).then((r) => r.json())
    await measure(session.id, api)
    await devflow(['session', 'stop', session.id, '--stage', 'local'])
  } finally {
    await devflow(['local', 'down']).catch((error) => console.error(String(error)))
    for (const key of Object.keys(extraEnv)) delete env[key]
  }
}

/** N runs of `session prompt --wait`; with `steps`, where each one's time went. */
async function cliPrompts(sessionId, api, steps) {
  const samples = []
  for (let i = 0; i < prompts; i++) {
    const {stdout, ms, startedAt, endedAt} = await devflow(['session', 'prompt', sessionId, '--stage', 'local', '--wait', '--timeout', '60s', '--json', `prompt ${i}`])
    const prompt = JSON.parse(stdout)
    if (prompt.status !== 'SUCCEEDED') throw new Error(`prompt ${prompt.id} ended ${prompt.status}`)
    samples.push(ms)
    if (!steps) continue
    // Same machine, same clock: the server's timestamps split the run.
    const events = await api('GET', `sessions/${sessionId}/prompts/${prompt.id}/events?after=0`)
    const queued = Date.parse(prompt.createdAt)
    const firstEvent = Date.parse(events.items[0]?.at ?? prompt.updatedAt)
    const ended = Date.parse(prompt.updatedAt)
    steps.start.push(queued - startedAt)
    steps.claim.push(firstEvent - queued)
    steps.run.push(ended - firstEvent)
    steps.follow.push(endedAt - ended)
  }
  return samples
}

/** N prompts sent and followed over plain HTTP, as the CLI does it, without the CLI's start. */
async function httpPrompts(sessionId, api) {
  const samples = []
  for (let i = 0; i < prompts; i++) {
    const started = performance.now()
    const prompt = await api('POST', `sessions/${sessionId}/prompts`, {text: `http ${i}`})
    let after = 0
    for (;;) {
      const page = await api('GET', `sessions/${sessionId}/prompts/${prompt.id}/events?after=${after}&wait=20`)
      after = page.items.at(-1)?.seq ?? after
      if (['SUCCEEDED', 'FAILED', 'CANCELLED'].includes(page.status) && !page.nextToken) break
    }
    samples.push(performance.now() - started)
  }
  return samples
}

const line = (label, samples) => `${label} p50 ${f(percentile(samples, 50))}  p95 ${f(percentile(samples, 95))}`

try {
  const cliStart = []
  for (let i = 0; i < 5; i++) cliStart.push((await devflow(['--version'])).ms)

  const steps = {start: [], claim: [], run: [], follow: []}
  let loop
  await withPlatform({}, async (sessionId, api) => {
    loop = await cliPrompts(sessionId, api, steps)
  })
  let instantCli
  let instantHttp
  await withPlatform({AI_WORKFLOW_BIN: join(root, 'bench', 'lib', 'instant-agent.mjs')}, async (sessionId, api) => {
    instantCli = await cliPrompts(sessionId, api)
    instantHttp = await httpPrompts(sessionId, api)
  })

  const p50 = percentile(loop, 50)
  console.log(`Prompt latency on the local platform, ${prompts} prompts each:`)
  console.log(`  ${line('session prompt --wait, agent loop + stub claude:', loop)}  (target p50 <= ${f(TARGET_MS)}: ${p50 <= TARGET_MS ? 'met' : 'NOT met'})`)
  console.log('    where it goes (p50):')
  console.log(`      CLI start to the prompt queued      ${f(percentile(steps.start, 50))} (the CLI process: node, oclif, the command's modules)`)
  console.log(`      queued to the agent's first event   ${f(percentile(steps.claim, 50))} (claim, the agent's steps, Claude's first line, a flush)`)
  console.log(`      first event to the result           ${f(percentile(steps.run, 50))} (the agent's run, commit check and report)`)
  console.log(`      result to the CLI's exit            ${f(percentile(steps.follow, 50))} (the long poll's answer, the prompt read, output)`)
  console.log(`  ${line('session prompt --wait, an agent that costs nothing:', instantCli)}`)
  console.log(`  ${line('HTTP only (POST + events long poll), same agent:   ', instantHttp)}  (the platform's own)`)
  console.log(`  CLI start (devflow --version) p50 ${f(percentile(cliStart, 50))}`)
  const load = (await readFile('/proc/loadavg', 'utf8').catch(() => '?')).split(' ')[0]
  console.log(`  (load average ${load} on ${availableParallelism()} cores: every agent step and the CLI are processes, slower on a busy machine)`)
} finally {
  if (process.env.BENCH_KEEP) console.log(`kept ${dir}`)
  else await rm(dir, {recursive: true, force: true})
}
