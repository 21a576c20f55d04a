#!/usr/bin/env node
// Prints the wall time of `devflow --help` beside bare `node -e 0`, measured in one run, and the
// ratio of their medians. Target: devflow --help within 3x of bare node. Needs `npm run build`.
import {execFileSync, spawnSync} from 'node:child_process'
import {existsSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const cli = join(root, 'bin', 'run.js')
if (!existsSync(join(root, 'oclif.manifest.json'))) execFileSync('npm', ['run', 'build', '--silent'], {cwd: root, stdio: 'inherit'})

const runs = Number(process.env.RUNS ?? 15)
function time(args) {
  const samples = []
  for (let i = 0; i < runs + 2; i++) {
    const start = process.hrtime.bigint()
    const result = spawnSync(process.execPath, args, {stdio: 'ignore'})
    const ms = Number(process.hrtime.bigint() - start) / 1e6
    if (result.status !== 0) throw new Error(`${args.join(' ')} exited ${result.status}`)
    if (i >= 2) samples.push(ms) // the first two warm the file cache
  }
  samples.sort((a, b) => a - b)
  return {median: samples[Math.floor(samples.length / 2)], min: samples[0], max: samples.at(-1)}
}

// Interleave nothing clever: both measured back to back on the same machine state.
const node = time(['-e', '0'])
const help = time([cli, '--help'])
const fmt = (t) => `median ${t.median.toFixed(1)} ms (min ${t.min.toFixed(1)}, max ${t.max.toFixed(1)})`
console.log(`runs: ${runs}`)
console.log(`node -e 0:       ${fmt(node)}`)
console.log(`devflow --help:  ${fmt(help)}`)
console.log(`ratio: ${(help.median / node.median).toFixed(2)}x (target <= 3x)`)
