#!/usr/bin/env node
// The Lambda functions' code as deployed: dist/lambda, the one asset `npm run build` writes
// (lambda/build.mjs) and every function of the stack takes as its code. Prints the asset's size
// (what each function's code is, unzipped and deflated as in the deployment zip), the bytes each
// function's handler module loads, and its cold import: a fresh node process importing
// `<entry>.mjs` from a copy of the asset whose only node_modules is the AWS SDK (as in the
// nodejs22.x runtime), median of RUNS. Targets: code <= 300 KB, cold import <= 100 ms.
import {execFileSync, spawnSync} from 'node:child_process'
import {cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {deflateRawSync} from 'node:zlib'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const runs = Number(process.env.RUNS ?? 7)
const asset = join(root, 'dist', 'lambda')
if (!existsSync(asset)) execFileSync(process.execPath, [join(root, 'lambda', 'build.mjs')], {stdio: 'inherit'})

const KB = 1000
const files = readdirSync(asset, {recursive: true}).filter((f) => statSync(join(asset, f)).isFile())
const codeBytes = files.reduce((sum, f) => sum + statSync(join(asset, f)).size, 0)
const zippedBytes = files.reduce((sum, f) => sum + deflateRawSync(readFileSync(join(asset, f)), {level: 9}).length, 0)
const maps = files.filter((f) => f.endsWith('.map'))
const entries = readdirSync(asset).filter((f) => f.endsWith('.mjs')).map((f) => f.slice(0, -4)).sort()

// The static import closure of a module of the asset (its relative imports), in bytes.
function loadedBytes(file, seen = new Set()) {
  if (seen.has(file)) return 0
  seen.add(file)
  const text = readFileSync(file, 'utf8')
  let bytes = text.length
  for (const [, spec] of text.matchAll(/(?:^|[;}\s])import\s*(?:[\w{},\s*]+from\s*)?"(\.{1,2}\/[^"]+)"/g)) bytes += loadedBytes(join(dirname(file), spec), seen)
  return bytes
}

const sandbox = mkdtempSync(join(tmpdir(), 'devflow-lambda-bench-'))
cpSync(asset, join(sandbox, 'code'), {recursive: true})
mkdirSync(join(sandbox, 'node_modules'))
symlinkSync(join(root, 'node_modules', '@aws-sdk'), join(sandbox, 'node_modules', '@aws-sdk'))

const env = {
  PATH: process.env.PATH ?? '',
  AWS_REGION: 'us-east-1',
  AWS_LAMBDA_FUNCTION_NAME: 'bench',
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
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
    const result = spawnSync(process.execPath, ['--input-type=module', '-e', script], {env, cwd: join(sandbox, 'code'), encoding: 'utf8'})
    if (result.status !== 0) throw new Error(`${file}: ${result.stderr}`)
    if (i > 0) samples.push(Number(result.stdout.trim()))
  }
  samples.sort((a, b) => a - b)
  return samples[Math.floor(samples.length / 2)]
}

try {
  console.log(`asset dist/lambda (every function's code): ${files.length} files, ${(codeBytes / KB).toFixed(1)} KB unzipped, ${(zippedBytes / KB).toFixed(1)} KB deflated; source maps in it: ${maps.length} (target: code <= 300 KB, no map)`)
  console.log(`${'function'.padEnd(22)} ${'code'.padStart(10)} ${'loads'.padStart(10)} ${'cold import'.padStart(12)}`)
  let worst = 0
  for (const entry of entries) {
    const ms = coldImport(join(sandbox, 'code', `${entry}.mjs`))
    worst = Math.max(worst, ms)
    const loads = loadedBytes(join(sandbox, 'code', `${entry}.mjs`))
    console.log(`${entry.padEnd(22)} ${`${(codeBytes / KB).toFixed(0)} KB`.padStart(10)} ${`${(loads / KB).toFixed(0)} KB`.padStart(10)} ${`${ms.toFixed(1)} ms`.padStart(12)}`)
  }
  console.log(`slowest cold import: ${worst.toFixed(1)} ms (median of ${runs}; target <= 100 ms); code ${(codeBytes / KB).toFixed(1)} KB (target <= 300 KB)`)
} finally {
  rmSync(sandbox, {recursive: true, force: true})
}
