#!/usr/bin/env node
// Builds the console into a temp dir (as `npm run build` does) and prints the size of what the
// first page loads: index.html, the JS bundle and the stylesheet, raw and gzipped, and the total
// against the 100 KB gzipped budget.
import {execFileSync} from 'node:child_process'
import {mkdtempSync, readFileSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {gzipSync} from 'node:zlib'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const out = mkdtempSync(join(tmpdir(), 'devflow-console-bench-'))
const BUDGET = 100 * 1024

try {
  const started = performance.now()
  execFileSync(process.execPath, [join(root, 'src', 'console', 'build.mjs'), '--out', out], {stdio: 'inherit'})
  const buildMs = performance.now() - started
  const files = ['index.html', 'assets/console.js', 'assets/console.css']
  let raw = 0
  let gzipped = 0
  console.log('file                   raw      gzip')
  for (const file of files) {
    const bytes = readFileSync(join(out, file))
    const zipped = gzipSync(bytes, {level: 9}).length
    raw += bytes.length
    gzipped += zipped
    console.log(`${file.padEnd(20)} ${String(bytes.length).padStart(7)}  ${String(zipped).padStart(7)}`)
  }
  console.log(`${'first page'.padEnd(20)} ${String(raw).padStart(7)}  ${String(gzipped).padStart(7)}  (budget ${BUDGET} gzipped: ${gzipped <= BUDGET ? 'within' : 'OVER'})`)
  console.log(`build: ${buildMs.toFixed(0)} ms`)
} finally {
  rmSync(out, {recursive: true, force: true})
}
