import {expect} from 'chai'
import {mkdir, readFile, writeFile} from 'node:fs/promises'
import {dirname} from 'node:path'

import {CliSandbox} from '../helpers/cli.js'

describe('e2e: devflow config', () => {
  let cli: CliSandbox
  beforeEach(async () => {
    cli = await CliSandbox.create()
  })
  afterEach(() => cli.cleanup())

  it('sets and gets a value, as JSON too', async () => {
    const set = await cli.run(['config', 'set', 'region', 'eu-west-1'])
    expect(set.exitCode).to.equal(0)
    expect(set.stderr).to.contain('Set region = eu-west-1')
    const get = await cli.run(['config', 'get', 'region', '--json'])
    expect(get.exitCode).to.equal(0)
    expect(get.stdout).to.equal('{"region":"eu-west-1"}\n')
    expect(get.stderr).to.equal('')
    expect((await cli.run(['config', 'get', 'region'])).stdout).to.equal('eu-west-1\n')
  })

  it('refuses an unknown key with exit 2 and the valid keys', async () => {
    const result = await cli.run(['config', 'set', 'nosuchkey', '1'])
    expect(result.exitCode).to.equal(2)
    expect(result.stderr).to.contain('Error: "nosuchkey" is not a setting.')
    expect(result.stderr).to.contain('Try this: Valid keys: stage, region, profile, endpoint, budgets, egress, notifyWebhook, notifyFormat, githubMaxSessionsPerRepo.')
    expect(result.stdout).to.equal('')
    const json = await cli.run(['config', 'set', 'nosuchkey', '1', '--json'])
    expect(json.exitCode).to.equal(2)
    expect(json.json()).to.deep.equal({
      error: {
        code: 'UNKNOWN_CONFIG_KEY',
        message: '"nosuchkey" is not a setting.',
        hint: 'Valid keys: stage, region, profile, endpoint, budgets, egress, notifyWebhook, notifyFormat, githubMaxSessionsPerRepo.',
        details: {validKeys: ['stage', 'region', 'profile', 'endpoint', 'budgets', 'egress', 'notifyWebhook', 'notifyFormat', 'githubMaxSessionsPerRepo']},
      },
    })
  })

  it('refuses a bad value with exit 2 and writes nothing', async () => {
    const result = await cli.run(['config', 'set', 'region', 'mars'])
    expect(result.exitCode).to.equal(2)
    expect(result.stderr).to.match(/not an AWS region name[\s\S]*Try this: /)
    expect((await cli.run(['config', 'list', '--json'])).json<{settings: Array<{key: string; source: string}>}>().settings.find((s) => s.key === 'region')?.source).to.equal('unset')
  })

  it('scopes values to a stage and shows precedence in list', async () => {
    await cli.run(['config', 'set', 'region', 'eu-west-1'])
    await cli.run(['config', 'set', 'region', 'ap-south-1', '--stage', 'prod'])
    const dev = await cli.run(['config', 'get', 'region', '--json'])
    expect(dev.json()).to.deep.equal({region: 'eu-west-1'})
    const prod = await cli.run(['config', 'get', 'region', '--json'], {env: {DEVFLOW_STAGE: 'prod'}})
    expect(prod.json()).to.deep.equal({region: 'ap-south-1'})
    const flag = await cli.run(['config', 'get', 'region', '--json', '--region', 'us-west-2'], {env: {DEVFLOW_REGION: 'us-east-2'}})
    expect(flag.json()).to.deep.equal({region: 'us-west-2'})
    const list = await cli.run(['config', 'list', '--json'], {env: {DEVFLOW_REGION: 'us-east-2'}})
    const settings = list.json<{settings: Array<{key: string; value?: string; source: string}>}>().settings
    expect(settings.find((s) => s.key === 'region')).to.include({value: 'us-east-2', source: 'env'})
    expect(settings.find((s) => s.key === 'stage')).to.include({value: 'dev', source: 'default'})
    const human = await cli.run(['config', 'list'])
    expect(human.stdout).to.match(/region\s+eu-west-1\s+config: /)
  })

  it('lists the per-repository limit of sessions from GitHub (3 by default) and refuses a bad one', async () => {
    const list = await cli.run(['config', 'list', '--json'])
    expect(list.json<{settings: Array<{key: string; value?: string; source: string}>}>().settings.find((s) => s.key === 'githubMaxSessionsPerRepo')).to.include({value: '3', source: 'default'})
    expect((await cli.run(['config', 'set', 'githubMaxSessionsPerRepo', '1', '--stage', 'local'])).exitCode).to.equal(0)
    expect((await cli.run(['config', 'get', 'githubMaxSessionsPerRepo', '--json'], {env: {DEVFLOW_STAGE: 'local'}})).json()).to.deep.equal({githubMaxSessionsPerRepo: '1'})
    const bad = await cli.run(['config', 'set', 'githubMaxSessionsPerRepo', '0'])
    expect(bad.exitCode).to.equal(2)
    expect(bad.stderr).to.contain('must be a whole number from 1 to 100')
  })

  it('refuses a per-stage value for a global key', async () => {
    const result = await cli.run(['config', 'set', 'stage', 'prod', '--stage', 'dev'])
    expect(result.exitCode).to.equal(2)
    expect(result.stderr).to.contain('cannot be set per stage')
  })

  it('unsets, and get on an unset key exits 3', async () => {
    await cli.run(['config', 'set', 'profile', 'work'])
    const unset = await cli.run(['config', 'unset', 'profile', '--json'])
    expect(unset.json()).to.deep.equal({key: 'profile', scope: 'global', removed: true})
    const get = await cli.run(['config', 'get', 'profile'])
    expect(get.exitCode).to.equal(3)
    expect(get.stderr).to.contain('Try this: Set it with `devflow config set profile <value>`')
  })

  it('names a corrupt config file and does not overwrite it', async () => {
    await mkdir(dirname(cli.configFile), {recursive: true})
    await writeFile(cli.configFile, '{not json')
    const result = await cli.run(['config', 'set', 'region', 'eu-west-1'])
    expect(result.exitCode).to.equal(2)
    expect(result.stderr).to.contain(`The config file ${cli.configFile} is not valid`)
    expect(await readFile(cli.configFile, 'utf8')).to.equal('{not json')
  })

  it('reports usage errors with exit 2 and no stack trace', async () => {
    const missing = await cli.run(['config', 'set', 'region'])
    expect(missing.exitCode).to.equal(2)
    expect(missing.stderr).to.match(/^Error: .*value/m)
    expect(missing.stderr).to.contain('Try this: Run the command with --help')
    expect(missing.stderr).to.not.match(/\n\s+at /)
    const badFlag = await cli.run(['config', 'list', '--nope'])
    expect(badFlag.exitCode).to.equal(2)
  })
})
