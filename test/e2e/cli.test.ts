import {expect} from 'chai'

import {CliSandbox} from '../helpers/cli.js'

describe('e2e: devflow (the CLI itself)', () => {
  let cli: CliSandbox
  before(async () => {
    cli = await CliSandbox.create()
  })
  after(() => cli.cleanup())

  it('--help lists the commands and exits 0', async () => {
    const result = await cli.run(['--help'])
    expect(result.exitCode).to.equal(0)
    expect(result.stdout).to.contain('doctor')
    expect(result.stdout).to.contain('config')
  })

  it('an unknown command is a usage error with a hint (exit 2)', async () => {
    const result = await cli.run(['nosuch'])
    expect(result.exitCode).to.equal(2)
    expect(result.stderr).to.match(/^Error: "nosuch" is not a devflow command\.\nTry this: Run `devflow --help` to see the commands \(.*config.*doctor.*\)\.\n$/)
    const json = await cli.run(['config', 'nope', '--json'])
    expect(json.exitCode).to.equal(2)
    expect(json.json<{error: {code: string}}>().error.code).to.equal('UNKNOWN_COMMAND')
  })

  it('never waits for input when stdin is not a terminal', async () => {
    // stdin is an empty pipe here: every command must finish on its own.
    for (const args of [['config', 'list'], ['doctor', '--json']]) {
      const result = await cli.run(args, {timeout: 30_000, env: {AWS_ENDPOINT_URL: 'http://localhost:9', AWS_REGION: 'us-east-1'}})
      expect(result.exitCode, args.join(' ')).to.be.a('number')
    }
  })
})
