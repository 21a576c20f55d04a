#!/usr/bin/env node
/**
 * `npm test` after the build: the whole suite, on every core. mocha runs every test/**\/*.test.ts
 * in DEVFLOW_TEST_JOBS parallel workers (default 2), each worker against a moto_server of its
 * own (test/helpers/moto.ts), while bats runs the container scripts' tests (container/test)
 * beside them. mocha's output streams; bats's is printed when mocha is done (interleaved lines
 * would be unreadable). Exits non-zero when either fails.
 *   node test/suite.mjs [--serial]   (--serial: one mocha process, then bats, as before)
 */
import {spawn} from 'node:child_process'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const serial = process.argv.includes('--serial')
const jobs = Number(process.env.DEVFLOW_TEST_JOBS ?? 2)
const mochaBin = join(root, 'node_modules', '.bin', 'mocha')

function run(command, args, {capture}) {
  return new Promise((resolve) => {
    const started = Date.now()
    const child = spawn(command, args, {cwd: root, stdio: capture ? ['ignore', 'pipe', 'pipe'] : 'inherit'})
    let output = ''
    if (capture) {
      child.stdout.on('data', (chunk) => (output += chunk))
      child.stderr.on('data', (chunk) => (output += chunk))
    }
    child.on('error', (error) => resolve({code: 127, output: `${command}: ${error.message}\n`, seconds: 0}))
    child.on('close', (code, signal) => resolve({code: code ?? (signal ? 128 : 1), output, seconds: (Date.now() - started) / 1000}))
  })
}

const mochaArgs = ['test/**/*.test.ts', ...(serial || jobs <= 1 ? [] : ['--parallel', '--jobs', String(jobs)])]
const bats = serial ? undefined : run('bats', ['container/test'], {capture: true})
const mocha = await run(mochaBin, mochaArgs, {capture: false})
const container = bats ? await bats : await run('bats', ['container/test'], {capture: false})
if (bats) process.stdout.write(`\n== container scripts (bats container/test, run beside mocha)\n${container.output}`)
console.log(`\nmocha: ${mocha.code === 0 ? 'passed' : `FAILED (exit ${mocha.code})`} in ${mocha.seconds.toFixed(0)} s; bats: ${container.code === 0 ? 'passed' : `FAILED (exit ${container.code})`} in ${container.seconds.toFixed(0)} s`)
process.exit(mocha.code !== 0 ? mocha.code : container.code)
