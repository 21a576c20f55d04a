import {expect} from 'chai'

import {MAX_COMMENT_CHARS, readStatusMarker, renderLivingComment, statusMarker} from '../../../../src/core/github/living-comment.js'
import {parseCommand} from '../../../../src/core/github/trigger.js'

const SESSION = 's-abcdefghijklmnopqrst'
const KEY = 'acme/app#12:comment-99'

describe('core/github/living-comment', function () {
  it('starts every body with a hidden marker that reads back to its key', function () {
    const body = renderLivingComment(KEY, {state: 'queued', sender: 'octocat'})
    expect(body.startsWith('<!-- devflow-status {"key":"acme/app#12:comment-99"} -->\n')).to.equal(true)
    expect(readStatusMarker(body)).to.equal(KEY)
  })

  it('finds no marker in a user comment, or one that quotes it further down', function () {
    expect(readStatusMarker('LGTM')).to.equal(undefined)
    expect(readStatusMarker(`> quoting\n${statusMarker(KEY)}`)).to.equal(undefined)
    expect(readStatusMarker(null)).to.equal(undefined)
  })

  it('keeps a key with "-->" inside the marker', function () {
    const key = 'x --> y'
    const marker = statusMarker(key)
    expect(marker.indexOf('-->')).to.equal(marker.length - 3)
    expect(readStatusMarker(marker)).to.equal(key)
  })

  it('renders queued, and waiting behind the repository limit', function () {
    expect(renderLivingComment(KEY, {state: 'queued', sender: 'octocat'})).to.contain('### DevFlow: queued').and.contain('Requested by @octocat')
    const waiting = renderLivingComment(KEY, {state: 'waiting', sender: 'octocat', limit: 2, repo: 'acme/app'})
    expect(waiting).to.contain('### DevFlow: waiting for a free slot')
    expect(waiting).to.contain('acme/app already has 2 DevFlow sessions running from GitHub')
    const noted = renderLivingComment(KEY, {state: 'queued', sender: 'octocat', note: 'Session `s-1` could not be resumed.'})
    expect(noted).to.contain('### DevFlow: queued\n\nSession `s-1` could not be resumed.\n\nThe work is queued')
  })

  it('renders running with the latest step on one line, backticks defused', function () {
    const body = renderLivingComment(KEY, {state: 'running', sender: 'octocat', sessionId: SESSION, latestStep: 'Edit `src/a.ts`\n\nthen run tests'})
    expect(body).to.contain("Latest step: Edit 'src/a.ts' then run tests")
    expect(body).to.contain(`session \`${SESSION}\``)
  })

  it('renders succeeded with the pull request, the summary, the commits and the cost', function () {
    const body = renderLivingComment(KEY, {
      state: 'succeeded',
      sender: 'octocat',
      sessionId: SESSION,
      summary: 'Fixed the spelling of "recieve".',
      commits: [{sha: '0123456789abcdef', message: 'Fix spelling\n\nlong body'}, {sha: 'fedcba9876543210'}],
      pullRequestUrl: 'https://github.com/acme/app/pull/13',
      costUsd: 0.4213,
    })
    expect(body).to.contain('### DevFlow: done')
    expect(body).to.contain('Pull request: https://github.com/acme/app/pull/13')
    expect(body).to.contain('Fixed the spelling of "recieve".')
    expect(body).to.contain('Commits:\n- 0123456 Fix spelling long body\n- fedcba9')
    expect(body).to.contain('Cost: $0.42')
  })

  it('says when a success changed nothing', function () {
    const body = renderLivingComment(KEY, {state: 'succeeded', sender: 'octocat', sessionId: SESSION, summary: '', commits: []})
    expect(body).to.contain('(The agent gave no summary.)').and.contain('No commits')
    expect(body).to.not.contain('Cost:')
  })

  it('renders failed with the code, the message and the hint, fenced against markdown', function () {
    const body = renderLivingComment(KEY, {
      state: 'failed',
      sender: 'octocat',
      error: {code: 'AGENT_MAX_TURNS', message: 'The agent hit ```max turns```'},
      hint: 'Split the issue into smaller steps.',
      costUsd: 1.5,
    })
    expect(body).to.contain('### DevFlow: failed')
    expect(body).to.contain('````\nAGENT_MAX_TURNS: The agent hit ```max turns```\n````')
    expect(body).to.contain('What to do: Split the issue into smaller steps.')
    expect(body).to.contain('Cost: $1.50')
  })

  it('renders the two refusals politely, naming the reason', function () {
    const readOnly = renderLivingComment(KEY, {state: 'refused', sender: 'mallory', reason: 'READ_ONLY_SENDER', repo: 'acme/app', permission: 'triage'})
    expect(readOnly).to.contain('Sorry @mallory, DevFlow takes work only from people with write, maintain or admin access to acme/app (yours is triage).')
    const outside = renderLivingComment(KEY, {state: 'refused', sender: 'octocat', reason: 'REPO_NOT_ALLOWED', repo: 'other/repo'})
    expect(outside).to.contain('does not take work from other/repo: the repository is not on its allow-list')
  })

  it('renders stopped, naming who stopped it', function () {
    expect(renderLivingComment(KEY, {state: 'stopped', sender: 'octocat', stoppedBy: 'hubot', sessionId: SESSION})).to.contain('Stopped by @hubot.')
  })

  it('never reads as a /devflow command itself', function () {
    const states = [
      {state: 'queued', sender: 'a'},
      {state: 'running', sender: 'a', sessionId: SESSION},
      {state: 'failed', sender: 'a', error: {code: 'X', message: '/devflow stop'}},
    ] as const
    for (const state of states) expect(parseCommand(renderLivingComment(KEY, state))).to.equal(undefined)
  })

  it('fits a huge summary within GitHub\'s comment limit', function () {
    const body = renderLivingComment(KEY, {state: 'succeeded', sender: 'octocat', sessionId: SESSION, summary: 'x'.repeat(200_000), commits: []})
    expect(body.length).to.be.at.most(MAX_COMMENT_CHARS)
    expect(readStatusMarker(body)).to.equal(KEY)
    expect(body).to.contain('Requested by @octocat')
  })
})
