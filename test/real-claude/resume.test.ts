/**
 * `session resume` with the real Claude Code CLI in a local session: a prompt, a second one stopped
 * mid-run by `session stop`, the transcript the CLI kept removed from where it keeps it, then
 * `session resume`: the next prompt's request to the scripted Messages API carries the earlier
 * conversation, restored from the checkpoint the stopping workspace saved.
 */
import {existsSync} from 'node:fs'
import {rm} from 'node:fs/promises'
import {join} from 'node:path'

import {expect} from 'chai'

import {FakeMessagesApi, reply, text, toolUse} from '../fakes/anthropic-messages-api.js'
import {git} from '../helpers/agent-workspace.js'
import {ensureClaudeCode} from '../helpers/claude-code.js'
import {bareRepository, type LocalPlatform, realClaude, startLocalPlatform} from '../helpers/local-platform.js'

interface Session {
  id: string
  status: string
  stopReason?: string
  resumeCount?: number
  checkpoint?: {branch: string; commit: string; claudeSessionId?: string; conversation: boolean}
}

interface Prompt {
  id: string
  status: string
  error?: {code: string}
}

describe('the real Claude Code CLI: a stopped session resumed continues its conversation', function () {
  this.timeout(300_000)
  let anthropic: FakeMessagesApi
  let local: LocalPlatform
  let bare: string

  const run = (args: string[]) => local.run([...args, '--stage', 'local'])

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
      prefix: 'devflow-real-claude-resume-',
      runTimeout: 120_000,
      ...realClaude(install.bin, anthropic.url),
    })
    bare = bareRepository(local.dir)
  })

  after(async function () {
    await local?.stop()
    await anthropic?.close()
  })

  it('stop mid-prompt, resume, and the next request carries the earlier messages', async function () {
    const start = await run(['session', 'start', '--repo', bare, '--wait', '--timeout', '60s', '--json'])
    expect(start.exitCode, start.stderr).to.equal(0)
    const id = start.json<Session>().id
    const branch = `devflow/${id}`

    anthropic.setScript(reply(text('Creating it.'), toolUse('Write', {file_path: 'hello.txt', content: 'Hello before the stop\n'})), reply(text('Created hello.txt.')))
    const first = await run(['session', 'prompt', id, '--wait', '--timeout', '90s', '--json', 'Create hello.txt'])
    expect(first.json<Prompt>().status, first.stderr).to.equal('SUCCEEDED')

    // The second prompt writes a file, then waits for the model's next answer when the stop comes.
    anthropic.reset()
    anthropic.setScript(reply(toolUse('Write', {file_path: 'partial.txt', content: 'half done\n'})), {kind: 'hang'})
    const queued = await run(['session', 'prompt', id, '--json', 'Write partial.txt, then wait'])
    expect(queued.exitCode, queued.stderr).to.equal(0)
    const deadline = Date.now() + 90_000
    while (anthropic.pending > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 200))
    expect(anthropic.pending, 'the CLI took both scripted turns').to.equal(0)
    await new Promise((resolve) => setTimeout(resolve, 1500))
    const stop = await run(['session', 'stop', id, '--wait', '--json'])
    expect(stop.exitCode, stop.stderr).to.equal(0)

    const stopped = (await run(['session', 'status', id, '--json'])).json<Session>()
    expect(stopped).to.include({status: 'STOPPED', stopReason: 'USER'})
    expect(stopped.checkpoint).to.include({branch, commit: git(['rev-parse', branch], bare), conversation: true})
    expect(git(['show', `${branch}:partial.txt`], bare)).to.equal('half done')
    const interrupted = (await run(['session', 'logs', id, '--json'])).json<{prompts: Prompt[]}>().prompts[1]
    expect(interrupted.status, JSON.stringify(interrupted)).to.be.oneOf(['CANCELLED', 'FAILED'])
    // Nothing of the conversation is left where the CLI keeps it: only the checkpoint has it.
    await rm(join(local.cli.home, '.claude', 'projects'), {recursive: true, force: true})

    const resume = await run(['session', 'resume', id, '--wait', '--timeout', '60s', '--json'])
    expect(resume.exitCode, resume.stderr).to.equal(0)
    expect(resume.json<Session>()).to.include({id, status: 'RUNNING', resumeCount: 1})
    expect(existsSync(join(local.cli.home, '.claude', 'projects'))).to.equal(true)

    anthropic.reset()
    anthropic.setScript(reply(text('It says hello, and partial.txt is half done.')))
    const next = await run(['session', 'prompt', id, '--wait', '--timeout', '90s', '--json', 'What do the two files say?'])
    expect(next.exitCode, next.stderr).to.equal(0)
    expect(next.json<Prompt>().status).to.equal('SUCCEEDED')
    const conversation = JSON.stringify(anthropic.agentTurns()[0]?.body?.messages ?? [])
    expect(conversation)
      .to.include('Create hello.txt')
      .and.to.include('Hello before the stop')
      .and.to.include('Write partial.txt, then wait')
      .and.to.include('What do the two files say?')
  })
})
