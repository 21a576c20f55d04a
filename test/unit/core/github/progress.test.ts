import {expect} from 'chai'

import {renderLivingComment} from '../../../../src/core/github/living-comment.js'
import {latestStep, livingCommentState} from '../../../../src/core/github/progress.js'

const SESSION = {id: 's-abcdefghijklmnopqrst', status: 'RUNNING' as const}

describe('core/github/progress', function () {
  it('is queued before the session and its prompt run', function () {
    expect(livingCommentState({sender: 'octocat'})).to.deep.equal({sender: 'octocat', state: 'queued'})
    expect(livingCommentState({sender: 'octocat', session: {...SESSION, status: 'PROVISIONING'}, prompt: {status: 'QUEUED'}})).to.deep.include({state: 'queued', sessionId: SESSION.id})
  })

  it('waits behind the repository limit', function () {
    expect(livingCommentState({sender: 'octocat', waitingFor: {limit: 2, repo: 'acme/app'}})).to.deep.equal({sender: 'octocat', state: 'waiting', limit: 2, repo: 'acme/app'})
  })

  it('is running with the latest step: the agent speaking or calling a tool, not a tool result', function () {
    const events = [
      {type: 'system', text: 'Claude Code init'},
      {type: 'tool_use', text: 'Edit {"file_path":"README.md"}', data: {tool: 'Edit', id: 't1'}},
      {type: 'tool_result', text: 'file written', data: {id: 't1'}},
    ]
    const state = livingCommentState({sender: 'octocat', session: SESSION, prompt: {status: 'RUNNING'}, events})
    expect(state).to.deep.equal({sender: 'octocat', sessionId: SESSION.id, state: 'running', latestStep: 'Edit: {"file_path":"README.md"}'})
    expect(latestStep([...events, {type: 'assistant', text: 'Now running the tests.\nThen I commit.'}])).to.equal('Now running the tests.')
    expect(latestStep([{type: 'log', text: 'noise'}])).to.equal(undefined)
  })

  it('succeeds with the summary, the commit, the pull request and the cost', function () {
    const state = livingCommentState({
      sender: 'octocat',
      session: SESSION,
      prompt: {status: 'SUCCEEDED', result: {summary: 'Fixed.', branch: 'devflow/s-abcdefghijklmnopqrst', commit: 'abc1234def', costUsd: 0.12}},
      pullRequestUrl: 'https://github.example/acme/app/pull/2',
    })
    expect(state).to.deep.equal({
      sender: 'octocat',
      sessionId: SESSION.id,
      state: 'succeeded',
      summary: 'Fixed.',
      commits: [{sha: 'abc1234def'}],
      branch: 'devflow/s-abcdefghijklmnopqrst',
      pullRequestUrl: 'https://github.example/acme/app/pull/2',
      costUsd: 0.12,
    })
  })

  it('fails with the error and a hint for the code, naming the logs', function () {
    const state = livingCommentState({sender: 'octocat', session: SESSION, prompt: {status: 'FAILED', error: {code: 'AGENT_MAX_TURNS', message: 'Out of turns.'}, result: {summary: '', costUsd: 2}}})
    expect(state).to.deep.include({state: 'failed', error: {code: 'AGENT_MAX_TURNS', message: 'Out of turns.'}, costUsd: 2})
    const hint = state.state === 'failed' ? state.hint : ''
    expect(hint).to.contain('ran out of turns').and.contain(`devflow session logs ${SESSION.id}`)
    const unknown = livingCommentState({sender: 'octocat', session: SESSION, prompt: {status: 'FAILED', error: {code: 'SOMETHING_NEW', message: 'x'}}})
    expect(unknown.state === 'failed' && unknown.hint).to.contain('Comment `/devflow <instructions>` to try again.')
  })

  it('fails when the workspace failed before the prompt ran', function () {
    const state = livingCommentState({sender: 'octocat', session: {...SESSION, status: 'FAILED', error: {code: 'CAPACITY_UNAVAILABLE', message: 'No Fargate capacity.'}}, prompt: {status: 'QUEUED'}})
    expect(state).to.deep.include({state: 'failed', error: {code: 'CAPACITY_UNAVAILABLE', message: 'No Fargate capacity.'}})
  })

  it('is stopped by /devflow stop (a cancelled prompt, or one the stop interrupted), or when the session ended', function () {
    expect(livingCommentState({sender: 'octocat', session: SESSION, prompt: {status: 'CANCELLED'}, stoppedBy: 'hubot'})).to.deep.include({state: 'stopped', stoppedBy: 'hubot'})
    expect(livingCommentState({sender: 'octocat', session: SESSION, prompt: {status: 'FAILED', error: {code: 'STOPPED', message: 'stopped'}}, stoppedBy: 'hubot'})).to.deep.include({state: 'stopped'})
    expect(livingCommentState({sender: 'octocat', session: {...SESSION, status: 'STOPPED'}, prompt: {status: 'QUEUED'}})).to.deep.include({state: 'stopped', stoppedBy: 'octocat'})
  })

  it('renders every state it produces', function () {
    const states = [
      livingCommentState({sender: 'a'}),
      livingCommentState({sender: 'a', session: SESSION, prompt: {status: 'RUNNING'}}),
      livingCommentState({sender: 'a', session: SESSION, prompt: {status: 'SUCCEEDED', result: {summary: 'ok'}}}),
      livingCommentState({sender: 'a', session: SESSION, prompt: {status: 'FAILED'}}),
    ]
    expect(states.map((s) => renderLivingComment('k', s).split('\n')[1])).to.deep.equal(['### DevFlow: queued', '### DevFlow: working', '### DevFlow: done', '### DevFlow: failed'])
  })
})
