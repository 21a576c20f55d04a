/**
 * The real Claude Code CLI (the pinned version, container/CLAUDE_CODE_VERSION) run by the real
 * container/ai-workflow.sh against a scripted Anthropic Messages API on 127.0.0.1, with the fake
 * DevFlow agent API and a bare git remote. One workspace and one Claude home serve every test in
 * order (the CLI's start-up is the slow part), so later prompts resume the earlier conversation.
 */
import {existsSync, readFileSync} from 'node:fs'
import {join} from 'node:path'

import {expect} from 'chai'

import {apiError, FakeMessagesApi, reply, text, toolUse, type RecordedRequest} from '../fakes/anthropic-messages-api.js'
import {AgentWorkspace, CONTAINER_DIR, git} from '../helpers/agent-workspace.js'
import {ensureClaudeCode, pinnedClaudeCodeVersion} from '../helpers/claude-code.js'

const DEFAULT_ALLOWED_TOOLS = /^CLAUDE_ALLOWED_TOOLS=\$\{CLAUDE_ALLOWED_TOOLS:-([^}]+)\}$/m

/** Every text a request's messages carry (strings, text blocks, tool_use inputs, tool results). */
function conversationText(request: RecordedRequest): string {
  return JSON.stringify(request.body?.messages ?? [])
}

describe('the real Claude Code CLI through ai-workflow.sh', function () {
  this.timeout(180_000)
  let bin = ''
  let anthropic: FakeMessagesApi
  let workspace: AgentWorkspace
  let firstPromptId = ''

  before(async function () {
    this.timeout(600_000)
    const install = await ensureClaudeCode()
    if ('skipped' in install) {
      console.log(`    skipped: ${install.skipped}`)
      this.skip()
    }
    bin = install.bin
    anthropic = await FakeMessagesApi.start()
    workspace = await AgentWorkspace.create()
  })

  after(async function () {
    await anthropic?.close()
    await workspace?.close()
  })

  const runAgent = (prompts: number, extra: Record<string, string> = {}) =>
    workspace.runAgent({
      CLAUDE_BIN: bin,
      ANTHROPIC_API_KEY: 'sk-ant-test-key',
      ANTHROPIC_BASE_URL: anthropic.url,
      MAX_ITERATIONS: String(prompts),
      ...extra,
    })

  it('runs a prompt with Write, Edit and Bash, commits, pushes devflow/<session> and reports turns and cost', async function () {
    anthropic.reset()
    anthropic.setScript(
      reply(text('I will add the notes file.'), toolUse('Write', {file_path: `${workspace.repoDir}/notes.md`, content: '# Notes\n\nfirst draft\n'})),
      reply(toolUse('Edit', {file_path: `${workspace.repoDir}/notes.md`, old_string: 'first draft', new_string: 'edited by the agent'})),
      reply(toolUse('Bash', {command: 'wc -l notes.md && echo bash-ran-here', description: 'Count the lines of notes.md'})),
      // A slow answer: the model takes a while before it streams the last turn.
      {...reply(text('Added notes.md.')), delayMs: 1500},
    )
    const promptId = workspace.queuePrompt('Add a notes file')
    firstPromptId = promptId
    const run = await runAgent(1)
    expect(run.exitCode, run.stderr).to.equal(0)
    expect(anthropic.pending, 'every scripted turn was asked for').to.equal(0)

    const [result, ...more] = workspace.results(promptId)
    expect(more).to.have.length(0)
    expect(result).to.include({status: 'SUCCEEDED', summary: 'Added notes.md.', branch: `devflow/${workspace.sessionId}`, turns: 4})
    const finalResult = workspace.stream(promptId).find((line) => line.type === 'result') as {total_cost_usd: number; permission_denials: unknown[]}
    expect(result.costUsd).to.be.greaterThan(0).and.to.equal(finalResult.total_cost_usd)
    expect(finalResult.permission_denials, 'the default allowed tools let every scripted tool run').to.deep.equal([])

    expect(git(['rev-parse', `devflow/${workspace.sessionId}`], workspace.remote)).to.equal(result.commit)
    expect(git(['show', `devflow/${workspace.sessionId}:notes.md`], workspace.remote)).to.equal('# Notes\n\nedited by the agent')
    expect(git(['log', '-1', '--format=%an%n%B', `devflow/${workspace.sessionId}`], workspace.remote)).to.include('Ada Lovelace').and.to.include(`DevFlow-Prompt: ${promptId}`)

    const events = workspace.events(promptId)
    expect(events.filter((e) => e.type === 'tool_use').map((e) => e.data?.tool)).to.deep.equal(['Write', 'Edit', 'Bash'])
    expect(events.filter((e) => e.type === 'tool_result').map((e) => e.text).join('\n')).to.include('bash-ran-here')
    expect(events.find((e) => e.type === 'system')?.data).to.include({subtype: 'init'})
    expect(events.at(-1)).to.deep.include({type: 'result', text: 'Added notes.md.'})

    // What the CLI asked the API: the model alias resolved by the CLI, the prompt, the tool results.
    const turns = anthropic.agentTurns()
    expect(turns).to.have.length(4)
    expect(turns[0].body?.model).to.match(/^claude-sonnet-/)
    expect(turns[0].body?.stream).to.equal(true)
    expect(turns[0].headers['x-api-key']).to.equal('sk-ant-test-key')
    expect(conversationText(turns[0])).to.include('Add a notes file')
    expect(conversationText(turns[3])).to.include('bash-ran-here')
  })

  it('names only tools the pinned CLI has in its allowed-tools default', function () {
    if (!firstPromptId) this.skip() // it reads what the first test's run printed
    const script = readFileSync(join(CONTAINER_DIR, 'ai-workflow.sh'), 'utf8')
    const allowed = (DEFAULT_ALLOWED_TOOLS.exec(script)?.[1] ?? '').split(',')
    expect(allowed).to.include.members(['Bash', 'Edit', 'Write', 'Read'])
    const init = workspace.stream(firstPromptId).find((line) => line.type === 'system' && line.subtype === 'init') as {tools: string[]; claude_code_version: string}
    expect(init.claude_code_version).to.equal(pinnedClaudeCodeVersion())
    expect(init.tools).to.include.members(allowed)
  })

  it('resumes the conversation on the next prompt: its first request carries the earlier messages', async function () {
    anthropic.reset()
    anthropic.setScript(reply(text('The notes file says: edited by the agent.')))
    const promptId = workspace.queuePrompt('What does the notes file say?')
    const run = await runAgent(1)
    expect(run.exitCode, run.stderr).to.equal(0)
    expect(workspace.results(promptId)[0]).to.include({status: 'SUCCEEDED', summary: 'No changes: The notes file says: edited by the agent.'})
    const [first] = anthropic.agentTurns()
    const conversation = conversationText(first)
    expect(conversation).to.include('Add a notes file')
    expect(conversation).to.include('bash-ran-here')
    expect(conversation).to.include('What does the notes file say?')
    // Nothing changed: no new commit.
    expect(workspace.results(promptId)[0]).not.to.have.property('commit')
  })

  it('reports a 400 as AGENT_API_ERROR with the API\'s message', async function () {
    anthropic.reset()
    anthropic.fallback = apiError(400, 'max_tokens: 64000 > 32000, which is the maximum allowed')
    const promptId = workspace.queuePrompt('Anything')
    const run = await runAgent(1, {CLAUDE_CODE_MAX_RETRIES: '1'})
    anthropic.fallback = reply(text('Done.'))
    expect(run.exitCode, run.stderr).to.equal(0)
    const [result] = workspace.results(promptId)
    expect(result.status).to.equal('FAILED')
    expect(result.error?.code).to.equal('AGENT_API_ERROR')
    expect(result.error?.message).to.include('HTTP 400').and.to.include('max_tokens: 64000 > 32000')
  })

  it('reports a 529 as AGENT_OVERLOADED after the bounded retries', async function () {
    anthropic.reset()
    anthropic.fallback = apiError(529)
    const promptId = workspace.queuePrompt('Anything')
    const run = await runAgent(1, {CLAUDE_CODE_MAX_RETRIES: '1'})
    anthropic.fallback = reply(text('Done.'))
    expect(run.exitCode, run.stderr).to.equal(0)
    const [result] = workspace.results(promptId)
    expect(result.error?.code).to.equal('AGENT_OVERLOADED')
    expect(result.error?.message).to.match(/^HTTP 529 after 1 retries: API Error: 529 Overloaded/)
    expect(anthropic.agentTurns().length).to.be.at.least(2)
  })

  it('reports the turn limit as AGENT_MAX_TURNS with the CLI\'s own words', async function () {
    anthropic.reset()
    anthropic.fallback = reply(toolUse('Bash', {command: 'echo again', description: 'Print a word'}))
    const promptId = workspace.queuePrompt('Loop for ever')
    const run = await runAgent(1, {CLAUDE_MAX_TURNS: '1'})
    anthropic.fallback = reply(text('Done.'))
    expect(run.exitCode, run.stderr).to.equal(0)
    const [result] = workspace.results(promptId)
    expect(result.error?.code).to.equal('AGENT_MAX_TURNS')
    expect(result.error?.message).to.match(/^Reached maximum number of turns \(1\)\. Raise CLAUDE_MAX_TURNS/)
    expect(result.turns).to.be.a('number')
  })

  it('fails a refused key fast (not after the CLI\'s retries) and claims no further prompt', async function () {
    anthropic.reset()
    anthropic.fallback = apiError(401)
    const promptId = workspace.queuePrompt('Anything')
    const next = workspace.queuePrompt('Never claimed')
    // The default retries (CLAUDE_CODE_MAX_RETRIES=6) would take about a minute for a 401.
    const run = await runAgent(5)
    anthropic.fallback = reply(text('Done.'))
    expect(run.exitCode, run.stderr).to.equal(3)
    expect(run.durationMs).to.be.below(20_000)
    const [result] = workspace.results(promptId)
    expect(result.status).to.equal('FAILED')
    expect(result.error?.code).to.equal('AGENT_AUTH_FAILED')
    expect(result.error?.message).to.include('HTTP 401').and.to.include('devflow secrets set claude-api-key')
    expect(workspace.isQueued(next)).to.equal(true)
    expect(workspace.results(next)).to.deep.equal([])
    expect(run.stderr).to.include('claiming no further prompts')
    // Drain it so the next test starts with an empty queue.
    const drained = await runAgent(1)
    expect(drained.exitCode, drained.stderr).to.equal(0)
    expect(workspace.results(next)[0]?.status).to.equal('SUCCEEDED')
  })

  it('stops mid-run on TERM: what was written is committed and pushed, the prompt reported STOPPED', async function () {
    anthropic.reset()
    anthropic.setScript(
      reply(toolUse('Write', {file_path: `${workspace.repoDir}/partial.txt`, content: 'half done\n'})),
      reply(toolUse('Bash', {command: 'sleep 60', description: 'Wait a minute'})),
    )
    const promptId = workspace.queuePrompt('Write then wait')
    const streamFile = join(workspace.stateDir, 'prompts', promptId, 'stream.jsonl')
    const run = await workspace.runAgent(
      {CLAUDE_BIN: bin, ANTHROPIC_API_KEY: 'sk-ant-test-key', ANTHROPIC_BASE_URL: anthropic.url, MAX_ITERATIONS: '1'},
      async (child) => {
        const deadline = Date.now() + 60_000
        while (Date.now() < deadline && !(existsSync(streamFile) && readFileSync(streamFile, 'utf8').includes('"sleep 60"'))) {
          await new Promise((resolve) => setTimeout(resolve, 100))
        }
        child.kill('SIGTERM')
      },
    )
    expect(run.exitCode, run.stderr).to.equal(0)
    expect(run.durationMs).to.be.below(60_000)
    const [result] = workspace.results(promptId)
    expect(result.status).to.equal('FAILED')
    expect(result.error?.code).to.equal('STOPPED')
    expect(git(['show', `devflow/${workspace.sessionId}:partial.txt`], workspace.remote)).to.equal('half done')
    expect(result.commit).to.equal(git(['rev-parse', `devflow/${workspace.sessionId}`], workspace.remote))
  })
})
