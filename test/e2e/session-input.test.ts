/**
 * Bad input for every session command, with the CLI as a process against a running platform: the
 * exit code of the table, a message and a hint, and nothing created. Stdin is never a terminal
 * here, so a command that waited for input would hang the test.
 */
import {writeFile} from 'node:fs/promises'
import {join} from 'node:path'

import {CloudFormationClient, CreateStackCommand} from '@aws-sdk/client-cloudformation'
import {expect} from 'chai'

import {CliSandbox, type CliResult} from '../helpers/cli.js'
import {TEST_REGION} from '../helpers/moto.js'
import {expectMatchesSchema} from '../helpers/output-schemas.js'
import {REPO, usePlatform} from '../helpers/platform-fixture.js'
import {startSignedApiServer} from '../helpers/signed-api-server.js'

const UNKNOWN_SESSION = 's-aaaaaaaaaaaaaaaaaaaa'
const UNKNOWN_PROMPT = 'p-aaaaaaaaaaaaaaaaaaaa'

function expectError(result: CliResult, exitCode: number, code?: string): {code: string; message: string; hint: string} {
  expect(result.exitCode, `stdout: ${result.stdout}\nstderr: ${result.stderr}`).to.equal(exitCode)
  const document = result.json<{error: {code: string; message: string; hint: string}}>()
  expectMatchesSchema('error', document)
  if (code) expect(document.error.code).to.equal(code)
  expect(document.error.message).to.not.equal('')
  expect(document.error.hint).to.not.equal('')
  expect(result.stderr).to.not.match(/\bat .+\.js:\d+/)
  return document.error
}

describe('e2e: devflow session, bad input and failures', function () {
  this.timeout(120_000)
  const platform = usePlatform({api: 'cli'})

  const run = (args: string[], env: Record<string, string> = {}, input?: string) =>
    platform.cli.run([...args, '--json'], {env: platform.env({DEVFLOW_ENDPOINT: platform.api.url, ...env}), input})

  const cases: Array<[string, string[], number, string | undefined]> = [
    ['start without --repo', ['session', 'start'], 2, 'USAGE'],
    ['start with a bad repo', ['session', 'start', '--repo', 'not a repo'], 2, 'INVALID_REPO'],
    ['start with a bad branch', ['session', 'start', '--repo', REPO, '--branch', 'a..b'], 2, 'INVALID_BRANCH'],
    ['start with a bad duration', ['session', 'start', '--repo', REPO, '--ttl', '4hours'], 2, 'INVALID_DURATION'],
    ['start with a bad idle timeout', ['session', 'start', '--repo', REPO, '--idle-timeout', '0m'], 2, 'INVALID_DURATION'],
    ['start with a cpu Fargate lacks', ['session', 'start', '--repo', REPO, '--cpu', '3'], 2, 'INVALID_CPU'],
    ['start with a cpu/memory pair Fargate lacks', ['session', 'start', '--repo', REPO, '--cpu', '1', '--memory', '512'], 2, 'INVALID_CAPACITY'],
    ['start with --timeout but no --wait', ['session', 'start', '--repo', REPO, '--timeout', '5m'], 2, 'USAGE'],
    ['start with a TTL over the limit', ['session', 'start', '--repo', REPO, '--ttl', '30d'], 2, 'TTL_TOO_LONG'],
    ['start for a repository the App cannot reach', ['session', 'start', '--repo', 'octo/not-installed'], 3, undefined],
    ['list --all as a caller who is no admin of the stage', ['session', 'list', '--all'], 4, 'ADMIN_ONLY'],
    ['list with an unknown status', ['session', 'list', '--status', 'SLEEPING'], 2, 'USAGE'],
    ['list with --limit 0', ['session', 'list', '--limit', '0'], 2, 'USAGE'],
    ['status without an id', ['session', 'status'], 2, 'USAGE'],
    ['status with a malformed id', ['session', 'status', 'nope'], 2, 'INVALID_SESSION_ID'],
    ['status of an unknown session', ['session', 'status', UNKNOWN_SESSION], 3, 'SESSION_NOT_FOUND'],
    ['prompt with both TEXT and --file', ['session', 'prompt', UNKNOWN_SESSION, 'text', '--file', 'x.md'], 2, 'PROMPT_SOURCES'],
    ['prompt from a missing file', ['session', 'prompt', UNKNOWN_SESSION, '--file', '/nonexistent/prompt.md'], 2, 'PROMPT_FILE_UNREADABLE'],
    ['prompt with a bad --pr', ['session', 'prompt', UNKNOWN_SESSION, 'text', '--pr', 'maybe'], 2, 'USAGE'],
    ['prompt --stream with --json', ['session', 'prompt', UNKNOWN_SESSION, 'text', '--stream'], 2, 'USAGE'],
    ['prompt with a bad timeout', ['session', 'prompt', UNKNOWN_SESSION, 'text', '--wait', '--timeout', 'soon'], 2, 'INVALID_DURATION'],
    ['prompt to an unknown session', ['session', 'prompt', UNKNOWN_SESSION, 'text'], 3, 'SESSION_NOT_FOUND'],
    ['logs with a malformed prompt id', ['session', 'logs', UNKNOWN_SESSION, '--prompt', 'p-1'], 2, 'INVALID_PROMPT_ID'],
    ['logs of an unknown session', ['session', 'logs', UNKNOWN_SESSION], 3, 'SESSION_NOT_FOUND'],
    ['open with a malformed id', ['session', 'open', 'x'], 2, 'INVALID_SESSION_ID'],
    ['open with a bad port', ['session', 'open', UNKNOWN_SESSION, '--port', '70000'], 2, 'USAGE'],
    ['open an unknown session', ['session', 'open', UNKNOWN_SESSION], 3, 'SESSION_NOT_FOUND'],
    ['stop without an id', ['session', 'stop'], 2, 'SESSION_ID_MISSING'],
    ['stop with one malformed id among good ones', ['session', 'stop', UNKNOWN_SESSION, 'bad'], 2, 'INVALID_SESSION_ID'],
    ['stop an unknown session', ['session', 'stop', UNKNOWN_SESSION], 3, 'SESSION_NOT_FOUND'],
  ]
  for (const [title, args, exitCode, code] of cases) {
    it(`${title}: exit ${exitCode}${code ? ` ${code}` : ''}`, async () => {
      expectError(await run(args), exitCode, code)
    })
  }

  it('refuses an empty prompt from stdin (exit 2) and queues nothing', async () => {
    const start = await run(['session', 'start', '--repo', REPO])
    expect(start.exitCode, start.stdout).to.equal(0)
    const id = start.json<{id: string}>().id
    expectError(await run(['session', 'prompt', id], {}, ''), 2, 'PROMPT_EMPTY')
    expectError(await run(['session', 'prompt', id, '   ']), 2, 'PROMPT_EMPTY')
    const file = join(platform.cli.home, 'prompt.md')
    await writeFile(file, '\n')
    expectError(await run(['session', 'prompt', id, '--file', file]), 2, 'PROMPT_EMPTY')
    expect(await platform.scan('prompts')).to.have.length(0)
    // Piped text is a prompt.
    const piped = await run(['session', 'prompt', id], {}, 'Fix the README\n')
    expect(piped.exitCode, piped.stdout).to.equal(0)
    expect(piped.json<{text: string}>().text).to.match(/^Fix the README\n?$/)
    expectError(await run(['session', 'logs', id, '--prompt', UNKNOWN_PROMPT]), 3)
    expect(await run(['session', 'stop', id])).to.have.property('exitCode', 0)
    expectError(await run(['session', 'prompt', id, 'more']), 5, 'SESSION_WRONG_STATE')
  })

  it('reports an unreachable endpoint with exit 7 and a hint', async () => {
    const error = expectError(await run(['session', 'list'], {DEVFLOW_ENDPOINT: 'http://127.0.0.1:9/'}), 7, 'API_UNREACHABLE')
    expect(error.hint).to.match(/--endpoint/)
  })

  it('reports expired and missing credentials with exit 4, sending nothing', async () => {
    expectError(await run(['session', 'list'], {AWS_CREDENTIAL_EXPIRATION: '2020-01-01T00:00:00Z'}), 4, 'AWS_CREDENTIALS_EXPIRED')
    const bare = await platform.cli.run(['session', 'list', '--json', '--endpoint', platform.api.url], {env: {AWS_REGION: TEST_REGION}})
    expectError(bare, 4, 'AWS_CREDENTIALS_MISSING')
  })

  it('prints Error/Try this on stderr in human mode, nothing on stdout', async () => {
    const result = await platform.cli.run(['session', 'status', UNKNOWN_SESSION], {env: platform.env({DEVFLOW_ENDPOINT: platform.api.url})})
    expect(result.exitCode).to.equal(3)
    expect(result.stdout).to.equal('')
    expect(result.stderr).to.match(/^Error: .+\nTry this: .+/)
  })

  it('says to deploy or pass --endpoint when no API is known for the stage (exit 2)', async () => {
    const fresh = await CliSandbox.create()
    try {
      const error = expectError(await fresh.run(['session', 'list', '--json'], {env: platform.env()}), 2, 'ENDPOINT_UNKNOWN')
      expect(error.hint).to.match(/devflow deploy/).and.to.match(/--endpoint/)
    } finally {
      await fresh.cleanup()
    }
  })

  it('finds the endpoint in the stack outputs and caches it in the config', async () => {
    const server = await startSignedApiServer({testing: 'testing'}, () => ({status: 200, body: {items: []}}))
    const fresh = await CliSandbox.create()
    const cloudformation = new CloudFormationClient({region: TEST_REGION, endpoint: platform.moto.url, credentials: {accessKeyId: 'testing', secretAccessKey: 'testing'}})
    try {
      await cloudformation.send(
        new CreateStackCommand({
          StackName: 'devflow-qa',
          TemplateBody: JSON.stringify({
            Resources: {Topic: {Type: 'AWS::SNS::Topic'}},
            Outputs: {ApiUrl: {Value: server.url}},
          }),
        }),
      )
      const first = await fresh.run(['session', 'list', '--stage', 'qa', '--json'], {env: platform.env()})
      expect(first.exitCode, first.stdout).to.equal(0)
      expect(first.json()).to.deep.equal({items: []})
      const config = JSON.parse(await (await import('node:fs/promises')).readFile(fresh.configFile, 'utf8'))
      expect(config.stages.qa.deployment.apiUrl).to.equal(server.url)
      expect(server.requests.map((r) => `${r.method} ${r.url}`)).to.deep.equal(['GET /prod/sessions?limit=100'])
    } finally {
      cloudformation.destroy()
      await server.close()
      await fresh.cleanup()
    }
  })

  it('created nothing for any of the refused commands', async () => {
    const sessions = await platform.scan('sessions')
    // Only the session the empty-prompt test started on purpose.
    expect(sessions.map((s) => s.repo)).to.deep.equal([REPO])
  })
})
