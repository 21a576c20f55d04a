#!/usr/bin/env node
// Wall time of the CLI's start, each command a fresh process, medians of RUNS, all measured in one
// run and interleaved (one sample of each in turn) so that load that comes and goes is shared:
//  - bare `node -e 0` and `devflow --help`          target: --help <= 2.2x node
//  - `session list` and `session status ID` in local mode (bearer token) and in API mode (SigV4),
//    each against a replay server (a separate process) answering with what `devflow api serve`
//    over moto answered (bench/lib/api-fixture.mjs) once: the figure is the CLI's own cost, not
//    moto's
//                                                   target: each <= 1.5x --help
// Needs `npm run build` (it builds when the manifest is missing) and moto_server.
import {execFileSync, spawn, spawnSync} from 'node:child_process'
import {existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {freePort, root, SESSION_ID, startApiFixture, waitFor} from './lib/api-fixture.mjs'

const cli = join(root, 'bin', 'run.js')
if (!existsSync(join(root, 'oclif.manifest.json'))) execFileSync('npm', ['run', 'build', '--silent'], {cwd: root, stdio: 'inherit'})
const runs = Number(process.env.RUNS ?? 15)

// The answers, recorded once from the real server; replayed by a process of its own (spawnSync
// below blocks this one).
const fixture = await startApiFixture()
const recorded = {}
for (const path of ['/sessions', `/sessions/${SESSION_ID}`]) {
  const response = await fetch(`${fixture.url}${path}`)
  if (response.status !== 200) throw new Error(`GET ${path}: ${response.status}`)
  recorded[path.split('?')[0]] = await response.text()
}
fixture.close()
const replayPort = await freePort()
const replay = spawn(process.execPath, ['-e', `
  const answers = ${JSON.stringify(recorded)}
  require('node:http').createServer((req, res) => {
    const body = answers[new URL(req.url, 'http://x').pathname]
    res.writeHead(body ? 200 : 404, {'content-type': 'application/json'})
    res.end(body ?? '{"error":{"code":"NOT_FOUND","message":"not recorded","hint":"-"}}')
  }).listen(${replayPort}, '127.0.0.1')
`], {stdio: 'ignore'})
const replayUrl = `http://127.0.0.1:${replayPort}`
await waitFor(`${replayUrl}/sessions`)
const home = mkdtempSync(join(tmpdir(), 'devflow-startup-bench-'))
try {
  mkdirSync(join(home, '.config', 'devflow'), {recursive: true})
  writeFileSync(join(home, 'token'), 'bench-token\n')
  writeFileSync(
    join(home, '.config', 'devflow', 'config.json'),
    JSON.stringify({
      stages: {
        local: {local: {apiUrl: replayUrl, tokenFile: join(home, 'token')}},
        dev: {deployment: {apiUrl: replayUrl, region: 'us-east-1'}},
      },
    }),
  )
  const env = {PATH: process.env.PATH ?? '', HOME: home, AWS_ACCESS_KEY_ID: 'testing', AWS_SECRET_ACCESS_KEY: 'testing', AWS_REGION: 'us-east-1'}
  const commands = {
    node: ['-e', '0'],
    help: [cli, '--help'],
    'list local': [cli, 'session', 'list', '--stage', 'local'],
    'status local': [cli, 'session', 'status', SESSION_ID, '--stage', 'local'],
    'list api': [cli, 'session', 'list', '--stage', 'dev'],
    'status api': [cli, 'session', 'status', SESSION_ID, '--stage', 'dev'],
  }
  const samples = Object.fromEntries(Object.keys(commands).map((name) => [name, []]))
  for (let i = 0; i < runs + 2; i++) {
    for (const [name, args] of Object.entries(commands)) {
      const start = process.hrtime.bigint()
      const result = spawnSync(process.execPath, args, {env, encoding: 'utf8'})
      const ms = Number(process.hrtime.bigint() - start) / 1e6
      if (result.status !== 0) throw new Error(`${args.join(' ')} exited ${result.status}: ${result.stderr}${result.stdout}`)
      if (i >= 2) samples[name].push(ms) // the first two rounds warm the file cache
    }
  }
  const stats = Object.fromEntries(
    Object.entries(samples).map(([name, list]) => {
      list.sort((a, b) => a - b)
      return [name, {median: list[Math.floor(list.length / 2)], min: list[0], max: list.at(-1)}]
    }),
  )
  const fmt = (t) => `median ${t.median.toFixed(1).padStart(6)} ms (min ${t.min.toFixed(1)}, max ${t.max.toFixed(1)})`
  console.log(`runs: ${runs}, interleaved`)
  console.log(`node -e 0                       ${fmt(stats.node)}`)
  console.log(`devflow --help                  ${fmt(stats.help)}   ${(stats.help.median / stats.node.median).toFixed(2)}x node (target <= 2.2x)`)
  for (const name of ['list local', 'status local', 'list api', 'status api']) {
    const [verb, mode] = name.split(' ')
    console.log(`session ${verb.padEnd(6)} (${mode.padEnd(5)} mode)   ${fmt(stats[name])}   ${(stats[name].median / stats.help.median).toFixed(2)}x --help (target <= 1.5x)`)
  }
} finally {
  replay.kill('SIGTERM')
  rmSync(home, {recursive: true, force: true})
}
