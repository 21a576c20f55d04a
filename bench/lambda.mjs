#!/usr/bin/env node
// Bundles each Lambda entry in lambda/ with esbuild (as the CDK app does: ESM, node20, minified)
// and prints its size and the cold import time of its handler: a fresh node process importing the
// bundle, median of RUNS. The environment the handler reads is set, so the import is the real one.
import {spawnSync} from 'node:child_process'
import {mkdtempSync, readdirSync, rmSync, statSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {basename, dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'

import {build} from 'esbuild'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const runs = Number(process.env.RUNS ?? 7)
const out = mkdtempSync(join(tmpdir(), 'devflow-lambda-bench-'))
const entries = readdirSync(join(root, 'lambda')).filter((f) => f.endsWith('.ts') && !f.startsWith('_'))

const env = {
  ...process.env,
  AWS_REGION: 'us-east-1',
  DEVFLOW_CLUSTER: 'devflow',
  DEVFLOW_TASK_DEFINITION: 'arn:aws:ecs:us-east-1:123456789012:task-definition/devflow-workspace:1',
  DEVFLOW_SUBNETS: 'subnet-1',
  DEVFLOW_SECURITY_GROUPS: 'sg-1',
  DEVFLOW_GITHUB_APP_SECRET_ARN: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:devflow/github-app',
}

function coldImport(file) {
  const samples = []
  for (let i = 0; i < runs + 1; i++) {
    const script = `const t=performance.now();const m=await import(${JSON.stringify(file)});if(typeof m.handler!=='function')process.exit(3);console.log(performance.now()-t)`
    const result = spawnSync(process.execPath, ['--input-type=module', '-e', script], {env, encoding: 'utf8'})
    if (result.status !== 0) throw new Error(`${file}: ${result.stderr}`)
    if (i > 0) samples.push(Number(result.stdout.trim()))
  }
  samples.sort((a, b) => a - b)
  return samples[Math.floor(samples.length / 2)]
}

try {
  console.log(`${'function'.padEnd(22)} ${'bundle'.padStart(10)} ${'cold import'.padStart(12)}`)
  for (const entry of entries) {
    const outfile = join(out, `${basename(entry, '.ts')}.mjs`)
    await build({
      entryPoints: [join(root, 'lambda', entry)],
      outfile,
      bundle: true,
      minify: true,
      platform: 'node',
      target: 'node20',
      format: 'esm',
      banner: {js: "import {createRequire as __cr} from 'node:module';const require=__cr(import.meta.url);"},
      logLevel: 'error',
    })
    const kib = statSync(outfile).size / 1024
    console.log(`${basename(entry, '.ts').padEnd(22)} ${`${kib.toFixed(0)} KiB`.padStart(10)} ${`${coldImport(outfile).toFixed(1)} ms`.padStart(12)}`)
  }
} finally {
  rmSync(out, {recursive: true, force: true})
}
