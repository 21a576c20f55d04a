import {expect} from 'chai'
import {mkdir, writeFile} from 'node:fs/promises'
import {dirname} from 'node:path'

import {CliSandbox} from '../helpers/cli.js'
import {moto, type Moto, TEST_ACCOUNT} from '../helpers/moto.js'

interface Report {
  ok: boolean
  checks: Array<{name: string; status: string; message: string; hint?: string; details?: {account?: string}}>
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
})
