import {expect} from 'chai'
import {mkdir, writeFile} from 'node:fs/promises'
import {dirname} from 'node:path'

import {CliSandbox} from '../helpers/cli.js'
import {moto, type Moto, TEST_ACCOUNT} from '../helpers/moto.js'

interface Report {
  ok: boolean
  checks: Array<{name: string; status: string; message: string; hint?: string; code?: string; details?: {account?: string; mode?: string; enforcer?: string; allow?: string[]; repositoryAdditions?: string}}>
}

describe('e2e: devflow doctor (against moto_server)', () => {
  let cli: CliSandbox
  let aws: Moto
  before(async () => {
    aws = await moto()
  })
  beforeEach(async () => {
    cli = await CliSandbox.create()
  })
  afterEach(() => cli.cleanup())

  it('reports the caller identity from STS and exits 0', async () => {
    const result = await cli.run(['doctor', '--json'], {env: aws.env()})
    expect(result.exitCode, result.stderr).to.equal(0)
    const report = result.json<Report>()
    expect(report.ok).to.equal(true)
    const identity = report.checks.find((c) => c.name === 'aws-credentials')
    expect(identity?.status).to.equal('PASS')
    expect(identity?.details?.account).to.equal(TEST_ACCOUNT)
    expect(report.checks.map((c) => c.name)).to.deep.equal(['node', 'aws-credentials', 'docker', 'session-manager-plugin', 'config'])
    // No Docker engine and no plugin on this machine: warnings, not failures.
    expect(report.checks.find((c) => c.name === 'docker')?.status).to.be.oneOf(['PASS', 'WARN'])
  })

  it('honours --profile', async () => {
    await writeFile(`${cli.home}/aws-credentials`, '[ci]\naws_access_key_id = AKIDEXAMPLE\naws_secret_access_key = secret\n')
    const env = {...aws.env(), AWS_ACCESS_KEY_ID: undefined, AWS_SECRET_ACCESS_KEY: undefined}
    const withProfile = await cli.run(['doctor', '--json', '--profile', 'ci'], {env})
    expect(withProfile.exitCode, withProfile.stdout).to.equal(0)
    const missingProfile = await cli.run(['doctor', '--json', '--profile', 'nope'], {env})
    expect(missingProfile.exitCode).to.equal(4)
  })

  it('with no credentials at all: FAIL with a hint, exit 4', async () => {
    const result = await cli.run(['doctor', '--json'], {env: {AWS_ENDPOINT_URL: aws.url, AWS_REGION: 'us-east-1'}})
    expect(result.exitCode).to.equal(4)
    const check = result.json<Report>().checks.find((c) => c.name === 'aws-credentials')
    expect(check?.status).to.equal('FAIL')
    expect(check?.hint).to.contain('aws configure')
    const human = await cli.run(['doctor'], {env: {AWS_ENDPOINT_URL: aws.url, AWS_REGION: 'us-east-1'}})
    expect(human.exitCode).to.equal(4)
    expect(human.stdout).to.match(/FAIL\s+aws-credentials/)
    expect(human.stdout).to.contain('Try this:')
  })

  it('reports a corrupt config file as FAIL and still checks the rest', async () => {
    await mkdir(dirname(cli.configFile), {recursive: true})
    await writeFile(cli.configFile, '[]')
    const result = await cli.run(['doctor', '--json'], {env: aws.env()})
    expect(result.exitCode).to.equal(2)
    const report = result.json<Report>()
    expect(report.checks.find((c) => c.name === 'config')?.message).to.contain(cli.configFile)
    expect(report.checks.find((c) => c.name === 'aws-credentials')?.status).to.equal('PASS')
  })

  it('with AWS unreachable: FAIL, exit 7', async () => {
    const result = await cli.run(['doctor', '--json'], {env: {...aws.env(), AWS_ENDPOINT_URL: 'http://localhost:9'}})
    expect(result.exitCode).to.equal(7)
    expect(result.json<Report>().checks.find((c) => c.name === 'aws-credentials')?.hint).to.contain('network')
  })

  describe('the egress check', () => {
    it('the local stage: filtered by the local proxy with the default list, or open (a WARN) once its egress setting says so', async () => {
      const filtered = await cli.run(['doctor', '--json', '--stage', 'local'], {env: aws.env()})
      expect(filtered.exitCode, filtered.stderr).to.equal(0)
      const check = filtered.json<Report>().checks.find((c) => c.name === 'egress')
      expect(check?.status).to.equal('PASS')
      expect(check?.details).to.include({mode: 'allowList', enforcer: 'session-proxy', repositoryAdditions: 'honoured'})
      expect(check?.details?.allow).to.include.members(['github.com', 'api.anthropic.com', 'registry.npmjs.org'])
      expect(check?.message).to.contain('filtered by the local egress proxy').and.contain('host processes are unrestricted').and.contain('registry.npmjs.org')

      const set = await cli.run(['config', 'set', 'egress', '{"mode": "open"}', '--stage', 'local'])
      expect(set.exitCode, set.stderr).to.equal(0)
      const open = await cli.run(['doctor', '--stage', 'local'], {env: aws.env()})
      expect(open.exitCode, 'open is a warning, not a failure').to.equal(0)
      expect(open.stdout).to.match(/WARN\s+egress/).and.contain('Egress of stage local is open')
    })

    it('a deployed stage: the EgressPolicy output devflow deploy saved, filtered by the DNS Firewall or open', async () => {
      const write = async (policy: object) => {
        await mkdir(dirname(cli.configFile), {recursive: true})
        await writeFile(cli.configFile, JSON.stringify({stages: {prod: {deployment: {egress: JSON.stringify(policy)}}}}))
      }
      await write({mode: 'allowList', allow: ['pypi.org'], repositoryAdditions: true})
      const filtered = (await cli.run(['doctor', '--json', '--stage', 'prod'], {env: aws.env()})).json<Report>().checks.find((c) => c.name === 'egress')
      expect(filtered?.status).to.equal('PASS')
      expect(filtered?.details).to.include({mode: 'allowList', enforcer: 'dns-firewall', repositoryAdditions: 'ignored'})
      expect(filtered?.details?.allow).to.include('pypi.org').and.not.include('registry.npmjs.org')
      expect(filtered?.message).to.contain('the DNS Firewall')

      await write({mode: 'open', allow: [], repositoryAdditions: false})
      const open = (await cli.run(['doctor', '--json', '--stage', 'prod'], {env: aws.env()})).json<Report>().checks.find((c) => c.name === 'egress')
      expect(open).to.include({status: 'WARN', code: 'EGRESS_OPEN'})
      expect(open?.hint).to.contain('-c devflow:egress=allowList')
    })

    it('no check for a stage that was never deployed nor is local', async () => {
      const result = await cli.run(['doctor', '--json', '--stage', 'prod'], {env: aws.env()})
      expect(result.json<Report>().checks.map((c) => c.name)).to.not.include('egress')
    })
  })
})
