/**
 * mocha global fixtures: make sure the CLI that e2e tests run is built from the current sources
 * (never a stale dist/ or manifest), and stop the shared moto_server at the end.
 */
import {execFileSync} from 'node:child_process'
import {existsSync, readdirSync, statSync} from 'node:fs'
import {join} from 'node:path'

import {ROOT} from './cli.js'
import {stopMoto} from './moto.js'

const SOURCES = ['src', 'lambda', 'infra', 'package.json', 'tsconfig.json', 'tsconfig.build.json']
const STAMP = join(ROOT, 'oclif.manifest.json')

function newestMtime(path: string): number {
  const stat = statSync(path)
  if (!stat.isDirectory()) return stat.mtimeMs
  let newest = stat.mtimeMs
  for (const entry of readdirSync(path)) {
    if (entry === 'node_modules' || entry === 'cdk.out') continue
    newest = Math.max(newest, newestMtime(join(path, entry)))
  }
  return newest
}

export function mochaGlobalSetup(): void {
  const sources = Math.max(...SOURCES.map((s) => join(ROOT, s)).filter((p) => existsSync(p)).map(newestMtime))
  if (!existsSync(STAMP) || statSync(STAMP).mtimeMs < sources) {
    process.stderr.write('Sources changed since the last build: running `npm run build` first.\n')
    execFileSync('npm', ['run', 'build', '--silent'], {cwd: ROOT, stdio: 'inherit'})
  }
}

export function mochaGlobalTeardown(): void {
  stopMoto()
}
