#!/usr/bin/env node
// Prints the synth time of all DevFlow stacks (dev and prod): with Lambda bundling and the cdk-nag
// checks (what `devflow deploy` does), and without bundling (what the infra tests do). Each in a
// fresh process, RUNS times; needs `npm run build` (it builds when dist/ is missing).
import {execFileSync, spawnSync} from 'node:child_process'
import {existsSync, mkdtempSync, readFileSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
if (!existsSync(join(root, 'dist', 'infra', 'app.js'))) execFileSync('npm', ['run', 'build', '--silent'], {cwd: root, stdio: 'inherit'})
const runs = Number(process.env.RUNS ?? 3)

if (process.argv[2] === '--child') {
  const {buildApp} = await import(join(root, 'dist', 'infra', 'app.js'))
  const context = JSON.parse(readFileSync(join(root, 'cdk.json'), 'utf8')).context
  const bundling = process.argv[3] === 'bundled'
  const outdir = mkdtempSync(join(tmpdir(), 'devflow-bench-'))
  const start = performance.now()
  const app = buildApp({context: bundling ? context : {...context, 'aws:cdk:bundling-stacks': []}, outdir})
  const assembly = app.synth()
  const ms = performance.now() - start
  rmSync(outdir, {recursive: true, force: true})
  process.stdout.write(JSON.stringify({ms, stacks: assembly.stacks.map((s) => s.stackName)}))
  process.exit(0)
}

function measure(mode) {
  const samples = []
  let stacks = []
  for (let i = 0; i < runs; i++) {
    const result = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--child', mode], {encoding: 'utf8', env: {...process.env, npm_config_update_notifier: 'false'}})
    if (result.status !== 0) throw new Error(`synth (${mode}) failed:\n${result.stderr}`)
    const out = JSON.parse(result.stdout.slice(result.stdout.lastIndexOf('{"ms"')))
    samples.push(out.ms)
    stacks = out.stacks
  }
  samples.sort((a, b) => a - b)
  return {stacks, median: samples[Math.floor(samples.length / 2)], min: samples[0], max: samples.at(-1)}
}

for (const mode of ['bundled', 'unbundled']) {
  const t = measure(mode)
  const label = mode === 'bundled' ? 'synth, 32 Lambda bundles, cdk-nag' : 'synth, no bundling, cdk-nag       '
  console.log(`${label}  ${t.stacks.join(' + ')}: median ${t.median.toFixed(0)} ms (min ${t.min.toFixed(0)}, max ${t.max.toFixed(0)}, ${runs} runs)`)
}
