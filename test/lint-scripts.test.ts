/**
 * The scripts behind `npm run lint:shell` and `npm run lint:workflows` (.ci/): they fail on a
 * finding, the workflow linter drops only the one known false finding, and ShellCheck follows
 * sourced files the same way from any folder (.shellcheckrc).
 */
import {mkdtemp, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {expect} from 'chai'
import {execa} from 'execa'

import {ROOT} from './helpers/cli.js'

const LINT_SHELL = join(ROOT, '.ci', 'lint-shell')
const LINT_WORKFLOWS = join(ROOT, '.ci', 'lint-workflows.mjs')

describe('.ci lint scripts', function () {
  this.timeout(60_000)
  let dir: string

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'devflow-lint-'))
  })
  after(async () => {
    await rm(dir, {recursive: true, force: true})
  })

  /** A one-job workflow, a `run` step per command. */
  async function workflow(name: string, ...commands: string[]): Promise<string> {
    const file = join(dir, name)
    await writeFile(file, `on: push\njobs:\n  x:\n    runs-on: ubuntu-latest\n    steps:\n${commands.map((c) => `      - run: ${c}\n`).join('')}`)
    return file
  }

  it('lint-workflows fails on a broken workflow, naming the file, the line and the finding', async () => {
    const file = await workflow('broken.yml', 'echo ${{ github.nope }}')
    const result = await execa('node', [LINT_WORKFLOWS, file], {cwd: dir, reject: false})
    expect(result.exitCode).to.equal(1)
    expect(result.stderr).to.match(/^broken\.yml:6:\d+ .*"nope".* \[expression\]$/m)
  })

  it('lint-workflows drops the outdated finding on the `vars` context, and nothing else', async () => {
    const clean = await workflow('vars.yml', 'echo ${{ vars.DEPLOY_ROLE }}')
    const ok = await execa('node', [LINT_WORKFLOWS, clean], {cwd: dir, reject: false})
    expect(ok.exitCode, ok.stderr).to.equal(0)
    const mixed = await workflow('mixed.yml', 'echo ${{ vars.DEPLOY_ROLE }}', 'echo ${{ github.nope }}')
    const failed = await execa('node', [LINT_WORKFLOWS, mixed], {cwd: dir, reject: false})
    expect(failed.exitCode).to.equal(1)
    expect(failed.stderr.split('\n').filter((line) => line.startsWith('mixed.yml:'))).to.have.length(1)
    expect(failed.stderr).to.match(/^mixed\.yml:7:\d+ .*"nope"/m)
  })

  it('lint-shell fails on a script with a ShellCheck finding', async () => {
    const script = join(dir, 'broken.sh')
    await writeFile(script, '#!/usr/bin/env bash\nrm -rf $1/cache\n')
    const result = await execa(LINT_SHELL, [script], {cwd: dir, reject: false})
    expect(result.exitCode).to.equal(1)
    expect(result.stdout).to.include('SC2086')
  })

  it('lint-shell follows sourced files the same from the repository, the script folder and elsewhere', async () => {
    const script = join(ROOT, 'container', 'ai-workflow.sh')
    for (const cwd of [ROOT, join(ROOT, 'container'), dir]) {
      const result = await execa(LINT_SHELL, [script], {cwd, reject: false})
      expect(result.exitCode, `from ${cwd}: ${result.stdout}${result.stderr}`).to.equal(0)
    }
  })
})
