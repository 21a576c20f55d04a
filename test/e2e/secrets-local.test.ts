import {expect} from 'chai'
import {readFile, stat, writeFile} from 'node:fs/promises'
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

  it('stores the GitHub webhook secret alone for the local server, owner-only, without printing it', async () => {
    const file = join(cli.home, 'webhook-secret')
    await writeFile(file, 'local-webhook-secret-0123456789\n')
    const result = await cli.run(['secrets', 'set', 'github-app', '--webhook-secret-file', file, '--stage', 'local', '--json'])
    expect(result.exitCode, result.stderr).to.equal(0)
    expect(result.stdout).to.not.contain('local-webhook-secret-0123456789')
    expect(result.json()).to.include({name: 'github-app', set: true})
    const secrets = join(cli.home, '.local', 'share', 'devflow', 'local', 'secrets.json')
    expect(JSON.parse(await readFile(secrets, 'utf8'))).to.deep.equal({'github-webhook-secret': 'local-webhook-secret-0123456789'})
    expect((await stat(secrets)).mode & 0o777).to.equal(0o600)
  })

  it('refuses a GitHub App for the local stage with a hint (exit 2)', async () => {
    const result = await cli.run(['secrets', 'set', 'github-app', '--stage', 'local', '--app-id', '1', '--private-key-file', 'x.pem'])
    expect(result.exitCode).to.equal(2)
    expect(result.stderr).to.contain('Try this: It uses your own token: set GITHUB_TOKEN')
  })
})
