import {expect} from 'chai'
import {readFile, stat} from 'node:fs/promises'
import {join} from 'node:path'

import {CliSandbox} from '../helpers/cli.js'

describe('e2e: devflow secrets for the local stage', () => {
  let cli: CliSandbox
  beforeEach(async () => {
    cli = await CliSandbox.create()
  })
  afterEach(() => cli.cleanup())

  it('stores the Claude API key in the local data dir, owner-only, without printing it', async () => {
    const result = await cli.run(['secrets', 'set', 'claude-api-key', '--stage', 'local', '--json'], {input: 'sk-ant-local-test\n'})
    expect(result.exitCode, result.stderr).to.equal(0)
    expect(result.stdout).to.not.contain('sk-ant-local-test')
    expect(result.json()).to.include({name: 'claude-api-key', set: true})
    const file = join(cli.home, '.local', 'share', 'devflow', 'local', 'secrets.json')
    expect(JSON.parse(await readFile(file, 'utf8'))).to.deep.equal({'claude-api-key': 'sk-ant-local-test'})
    expect((await stat(file)).mode & 0o777).to.equal(0o600)
  })

  it('refuses a GitHub App for the local stage with a hint (exit 2)', async () => {
    const result = await cli.run(['secrets', 'set', 'github-app', '--stage', 'local', '--app-id', '1', '--private-key-file', 'x.pem'])
    expect(result.exitCode).to.equal(2)
    expect(result.stderr).to.contain('Try this: It uses your own token: set GITHUB_TOKEN')
  })
})
