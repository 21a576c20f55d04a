#!/usr/bin/env node
// The platform's own latency around a prompt: `devflow session prompt --wait` end to end (the CLI
// as a process) on the local platform, with the stub agent of container/test/fixtures (a `claude`
// that answers at once), p50/p95 over PROMPTS prompts (default 10), beside the CLI's bare start
// (`devflow --version`) so that what the platform adds is visible. Target: p50 <= 1 s.
// Runs the built CLI (run `npm run build` first) with the platform's default timings: no
// DEVFLOW_POLL_INTERVAL_MS, no POLL_WAIT_SECONDS, no EVENT_FLUSH_INTERVAL_SECONDS.
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

let up = false
try {
  const bare = join(dir, 'app.git')
  const work = join(dir, 'app')
  git(['init', '--quiet', '--bare', '--initial-branch=main', bare])
  git(['clone', '--quiet', bare, work])
  await writeFile(join(work, 'README.md'), '# app\n')
  git(['add', 'README.md'], work)
  git(['-c', 'user.name=Dev', '-c', 'user.email=dev@example.com', 'commit', '--quiet', '-m', 'initial'], work)
  git(['push', '--quiet', 'origin', 'main'], work)

  const port = await freePort()
  await devflow(['local', 'up', '--port', String(port)])
  up = true
  const started = JSON.parse((await devflow(['session', 'start', '--stage', 'local', '--repo', bare, '--wait', '--timeout', '60s', '--json'])).stdout)

  const bare_ = []
  for (let i = 0; i < 5; i++) bare_.push((await devflow(['--version'])).ms)

  // One prompt first: the agent's first claim also sends the repository setup's events.
  await devflow(['session', 'prompt', started.id, '--stage', 'local', '--wait', '--timeout', '60s', '--json', 'warm up'])
  const token = (await readFile(join(home, '.local', 'share', 'devflow', 'local', 'token'), 'utf8')).trim()
  const samples = []
  const steps = {start: [], claim: [], run: [], follow: []}
  for (let i = 0; i < prompts; i++) {
    const {stdout, ms, startedAt, endedAt} = await devflow(['session', 'prompt', started.id, '--stage', 'local', '--wait', '--timeout', '60s', '--json', `prompt ${i}`])
    const prompt = JSON.parse(stdout)
    if (prompt.status !== 'SUCCEEDED') throw new Error(`prompt ${prompt.id} ended ${prompt.status}`)
    samples.push(ms)
    // Where the time went, from the server's timestamps (same machine, same clock).
    const events = await (await fetch(`http://127.0.0.1:${port}/sessions/${started.id}/prompts/${prompt.id}/events?after=0`, {headers: {authorization: `Bearer ${token}`}})).json()
    const queued = Date.parse(prompt.createdAt)
    const firstEvent = Date.parse(events.items[0]?.at ?? prompt.updatedAt)
    const ended = Date.parse(prompt.updatedAt)
    steps.start.push(queued - startedAt)
    steps.claim.push(firstEvent - queued)
    steps.run.push(ended - firstEvent)
    steps.follow.push(endedAt - ended)
  }
  const cliStart = percentile(bare_, 50)
  const p50 = percentile(samples, 50)
  const p95 = percentile(samples, 95)
  const f = (ms) => `${Math.round(ms)} ms`
  console.log(`session prompt --wait, local platform, stub agent, ${prompts} prompts:`)
  console.log(`  end to end   p50 ${f(p50)}  p95 ${f(p95)}  (target p50 <= ${f(TARGET_MS)}: ${p50 <= TARGET_MS ? 'met' : 'NOT met'})`)
  console.log(`  CLI start    p50 ${f(cliStart)} (devflow --version)`)
  console.log(`  platform     p50 ${f(p50 - cliStart)} (end to end minus the CLI's start)`)
  console.log('  where it goes (p50):')
  console.log(`    CLI start to the prompt queued       ${f(percentile(steps.start, 50))}`)
  console.log(`    queued to the agent's first event    ${f(percentile(steps.claim, 50))} (claim, the agent's start, Claude's first line, a flush)`)
  console.log(`    first event to the result            ${f(percentile(steps.run, 50))} (the agent's run, commit check and report)`)
  console.log(`    result to the CLI's exit             ${f(percentile(steps.follow, 50))} (the long poll's answer, the prompt read, output)`)
  const load = (await readFile('/proc/loadavg', 'utf8').catch(() => '?')).split(' ')[0]
  console.log(`  (load average ${load} on ${availableParallelism()} cores: the agent's steps are processes, slower on a busy machine)`)
  await devflow(['session', 'stop', started.id, '--stage', 'local'])
} finally {
  if (up) await devflow(['local', 'down']).catch((error) => console.error(String(error)))
  if (process.env.BENCH_KEEP) console.log(`kept ${dir}`)
  else await rm(dir, {recursive: true, force: true})
}
