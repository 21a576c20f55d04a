import {expect} from 'chai'
import {mkdtemp, readFile, readdir, rm, stat, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {ConfigFile, configPath, resolveSettings} from '../../../src/cli/config.js'
import {DevflowError} from '../../../src/core/errors.js'

describe('cli/config', () => {
  let dir: string
  let path: string
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'devflow-config-'))
    path = join(dir, 'devflow', 'config.json')
  })
  afterEach(() => rm(dir, {recursive: true, force: true}))

  it('lives under XDG_CONFIG_HOME, else ~/.config', () => {
    expect(configPath({XDG_CONFIG_HOME: '/x'})).to.equal('/x/devflow/config.json')
    expect(configPath({HOME: '/home/u'})).to.equal('/home/u/.config/devflow/config.json')
  })

  it('writes atomically with owner-only permissions and leaves no temporary file', async () => {
    const config = await ConfigFile.load(path)
    config.setSetting('region', 'eu-west-1')
    config.setSetting('profile', 'prod', 'prod')
    await config.save()
    expect(JSON.parse(await readFile(path, 'utf8'))).to.deep.equal({settings: {region: 'eu-west-1'}, stages: {prod: {settings: {profile: 'prod'}}}})
    expect((await stat(path)).mode & 0o777).to.equal(0o600)
    expect(await readdir(join(dir, 'devflow'))).to.deep.equal(['config.json'])
  })

  it('names the file when it is corrupt', async () => {
    await ConfigFile.load(path).then((c) => c.save())
    await writeFile(path, '{"settings": {"region": ')
    try {
      await ConfigFile.load(path)
      expect.fail('should throw')
    } catch (error) {
      expect((error as DevflowError).code).to.equal('CONFIG_CORRUPT')
      expect((error as DevflowError).message).to.contain(path)
    }
    await writeFile(path, '{"settings": {"region": 5}}')
    await ConfigFile.load(path).then(
      () => expect.fail('should throw'),
      (error: DevflowError) => expect(error.message).to.contain('"settings" must map keys to strings'),
    )
  })

  it('resolves flag > environment > stage section > file > default', async () => {
    const config = await ConfigFile.load(path)
    config.setSetting('region', 'eu-west-1')
    config.setSetting('region', 'ap-south-1', 'prod')
    let resolved = resolveSettings(config, {}, {})
    expect(resolved.stage).to.include({value: 'dev', source: 'default'})
    expect(resolved.region).to.include({value: 'eu-west-1', source: 'config'})
    resolved = resolveSettings(config, {}, {DEVFLOW_STAGE: 'prod'})
    expect(resolved.region).to.include({value: 'ap-south-1', source: 'config (stage)'})
    resolved = resolveSettings(config, {}, {DEVFLOW_STAGE: 'prod', DEVFLOW_REGION: 'us-west-2'})
    expect(resolved.region).to.include({value: 'us-west-2', source: 'env'})
    resolved = resolveSettings(config, {region: 'us-east-2'}, {DEVFLOW_REGION: 'us-west-2'})
    expect(resolved.region).to.include({value: 'us-east-2', source: 'flag'})
    expect(resolved.profile).to.include({source: 'unset'})
  })

  it('rejects a bad value from the environment, naming the variable', async () => {
    const config = await ConfigFile.load(path)
    expect(() => resolveSettings(config, {}, {DEVFLOW_REGION: 'mars'})).to.throw(DevflowError, /DEVFLOW_REGION/)
  })
})
