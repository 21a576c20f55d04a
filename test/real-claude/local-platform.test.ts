/**
 * The real Claude Code CLI in a session of the local platform, as a user runs it: `devflow local
 * up` (host processes running container/entrypoint.sh), `session start` on a bare repository in a
 * temp dir, `session prompt --wait`, against the scripted Messages API on 127.0.0.1.
 */

import {expect} from 'chai'

import {apiError, FakeMessagesApi, reply, text, toolUse} from '../fakes/anthropic-messages-api.js'
import {git} from '../helpers/agent-workspace.js'
import {ensureClaudeCode} from '../helpers/claude-code.js'
import {bareRepository, type LocalPlatform, realClaude, startLocalPlatform} from '../helpers/local-platform.js'

interface Session {
  id: string
  status: string
  error?: {code: string; message: string}
}

interface Prompt {
  id: string
  status: string
  result?: {branch?: string; commit?: string; summary: string; turns?: number; costUsd?: number}
  error?: {code: string; message: string}
}

describe('the real Claude Code CLI in a local session', function () {
  this.timeout(240_000)
  let anthropic: FakeMessagesApi
  let local: LocalPlatform
  let bare: string
  let sessionId = ''

  const run = (args: string[]) => local.run(args)

  before(async function () {
    this.timeout(600_000)
    const install = await ensureClaudeCode()
    if ('skipped' in install) {
      console.log(`    skipped: ${install.skipped}`)
      this.skip()
    }
    anthropic = await FakeMessagesApi.start()
    // No Docker engine: sessions are host processes.
    local = await startLocalPlatform({
      prefix: 'devflow-real-claude-',
      runTimeout: 120_000,
      ...realClaude(install.bin, anthropic.url),
    })
    bare = bareRepository(local.dir)
    const start = await run(['session', 'start', '--stage', 'local', '--repo', bare, '--wait', '--timeout', '60s', '--json'])
    expect(start.exitCode, start.stderr).to.equal(0)
    sessionId = start.json<Session>().id
  })

  after(async function () {
    await local?.stop()
    await anthropic?.close()
  })

  it('takes a prompt: the CLI writes the file, the agent commits and pushes devflow/<session>', async function () {
    anthropic.reset()
    anthropic.setScript(reply(text('Creating it.'), toolUse('Write', {file_path: 'hello.txt', content: 'Hello from the real CLI\n'})), reply(text('Created hello.txt.')))
    const prompt = await run(['session', 'prompt', sessionId, '--stage', 'local', '--wait', '--timeout', '90s', '--json', 'Create hello.txt'])
    expect(prompt.exitCode, prompt.stderr).to.equal(0)
    const done = prompt.json<Prompt>()
    expect(done.status).to.equal('SUCCEEDED')
    expect(done.result).to.include({summary: 'Created hello.txt.', branch: `devflow/${sessionId}`, turns: 2})
    expect(done.result?.costUsd).to.be.greaterThan(0)
    expect(git(['rev-parse', `devflow/${sessionId}`], bare)).to.equal(done.result?.commit)
    expect(git(['show', `devflow/${sessionId}:hello.txt`], bare)).to.equal('Hello from the real CLI')

    const logs = await run(['session', 'logs', sessionId, '--stage', 'local', '--json'])
    expect(logs.exitCode, logs.stderr).to.equal(0)
    const events = logs.json<{prompts: Array<{id: string; events: Array<{type: string; text?: string}>}>}>().prompts[0].events
    expect(events.map((e) => e.type)).to.include.members(['system', 'assistant', 'tool_use', 'tool_result', 'result'])
    expect(events.find((e) => e.type === 'tool_use')?.text).to.match(/^Write /)
  })

  it('continues the conversation on the next prompt', async function () {
    anthropic.reset()
    anthropic.setScript(reply(text('It greets you.')))
    const prompt = await run(['session', 'prompt', sessionId, '--stage', 'local', '--wait', '--timeout', '90s', '--json', 'What does hello.txt say?'])
    expect(prompt.exitCode, prompt.stderr).to.equal(0)
    const conversation = JSON.stringify(anthropic.agentTurns()[0]?.body?.messages ?? [])
    expect(conversation).to.include('Create hello.txt').and.to.include('Hello from the real CLI').and.to.include('What does hello.txt say?')
  })

  it('fails a prompt on a refused key with AGENT_AUTH_FAILED, and the session then takes no further prompt', async function () {
    anthropic.reset()
    anthropic.fallback = apiError(401)
    const started = Date.now()
    const prompt = await run(['session', 'prompt', sessionId, '--stage', 'local', '--wait', '--timeout', '90s', '--json', 'Anything'])
    expect(Date.now() - started).to.be.below(30_000)
    const failed = prompt.json<Prompt>()
    expect(failed.status).to.equal('FAILED')
    expect(failed.error?.code).to.equal('AGENT_AUTH_FAILED')
    expect(failed.error?.message).to.include('devflow secrets set claude-api-key')

    // The agent exits, the workspace ends and the session is FAILED: a next prompt is refused at once.
    const deadline = Date.now() + 30_000
    let session: Session
    do {
      session = (await run(['session', 'status', sessionId, '--stage', 'local', '--json'])).json<Session>()
      if (session.status === 'FAILED') break
      await new Promise((resolve) => setTimeout(resolve, 500))
    } while (Date.now() < deadline)
    expect(session.status).to.equal('FAILED')
    const refused = await run(['session', 'prompt', sessionId, '--stage', 'local', '--json', 'Once more'])
    expect(refused.exitCode).to.equal(5)
  })
})
