#!/usr/bin/env node
// Prints the synth time of all DevFlow stacks (dev and prod) with the cdk-nag checks, what
// `devflow synth|diff|deploy` does: the Lambda code is the prebuilt dist/lambda asset, so synth
// bundles nothing. Also without cdk-nag (what most infra tests do). Each in a fresh process, RUNS
// times, the first discarded (the file cache warm: "warm" as the target means it); needs
// `npm run build` (it builds when dist/ is missing). Target: <= 5 s with cdk-nag.
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
  const nag = process.argv[3] === 'nag'
  const outdir = mkdtempSync(join(tmpdir(), 'devflow-bench-'))
  const start = performance.now()
  const app = buildApp({context, outdir, nag})
  const assembly = app.synth()
  const ms = performance.now() - start
  rmSync(outdir, {recursive: true, force: true})
  process.stdout.write(JSON.stringify({ms, stacks: assembly.stacks.map((s) => s.stackName)}))
  process.exit(0)
}

function measure(mode) {
  const samples = []
  let stacks = []
  for (let i = 0; i < runs + 1; i++) {
    const result = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--child', mode], {encoding: 'utf8', env: {...process.env, npm_config_update_notifier: 'false'}})
    if (result.status !== 0) throw new Error(`synth (${mode}) failed:\n${result.stderr}`)
    const out = JSON.parse(result.stdout.slice(result.stdout.lastIndexOf('{"ms"')))
    if (i > 0) samples.push(out.ms)
    stacks = out.stacks
  }
  samples.sort((a, b) => a - b)
  return {stacks, median: samples[Math.floor(samples.length / 2)], min: samples[0], max: samples.at(-1)}
}

for (const mode of ['nag', 'no-nag']) {
  const t = measure(mode)
  const label = mode === 'nag' ? 'synth, prebuilt Lambda asset, cdk-nag (deploy)' : 'synth, prebuilt Lambda asset, no cdk-nag     '
  console.log(`${label}  ${t.stacks.join(' + ')}: median ${t.median.toFixed(0)} ms (min ${t.min.toFixed(0)}, max ${t.max.toFixed(0)}, ${runs} warm runs)${mode === 'nag' ? ' (target <= 5000 ms)' : ''}`)
}
