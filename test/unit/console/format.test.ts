import {expect} from 'chai'

import {errorFromResponse} from '../../../src/console/api.js'
import {eventText, expiry, ownerLabel, relative, repositoryPicker, size, usd} from '../../../src/console/format.js'

describe('console: display helpers and API errors', function () {
  const now = new Date('2026-01-01T12:00:00Z')

  it('formats sizes, relative times, expiry and cost as the CLI does', function () {
    expect(size({cpu: 1024, memory: 4096})).to.equal('1 vCPU / 4 GB')
    expect(size({cpu: 256, memory: 512})).to.equal('0.25 vCPU / 512 MB')
    expect(relative('2026-01-01T11:57:00Z', now)).to.equal('3m ago')
    expect(relative('2026-01-01T16:00:00Z', now)).to.equal('in 4h')
    expect(relative('not a date', now)).to.equal('-')
    const session = {status: 'RUNNING', cpu: 1024, memory: 4096, createdAt: '2026-01-01T11:00:00Z', expiresAt: '2026-01-01T15:00:00Z'}
    expect(expiry(session, now)).to.equal('in 3h')
    expect(expiry({...session, status: 'STOPPED'}, now)).to.equal('-')
    expect(usd(0.4567)).to.equal('$0.46')
    expect(usd(undefined)).to.equal('-')
  })

  it('shows an event as `session logs` does: its text, else its data as JSON', function () {
    expect(eventText({text: 'Edited hello.txt'})).to.equal('Edited hello.txt')
    expect(eventText({data: {tool: 'Write'}})).to.equal('{"tool":"Write"}')
    expect(eventText({})).to.equal('')
  })

  it('reads a DevFlow error body with its hint', function () {
    const error = errorFromResponse(400, JSON.stringify({error: {code: 'INVALID_MEMORY', message: 'Fargate does not run 1 vCPU with 999 MiB.', hint: 'With 1 vCPU use 2048 to 8192 MiB.'}}))
    expect({code: error.code, message: error.message, hint: error.hint, status: error.status}).to.deep.equal({
      code: 'INVALID_MEMORY',
      message: 'Fargate does not run 1 vCPU with 999 MiB.',
      hint: 'With 1 vCPU use 2048 to 8192 MiB.',
      status: 400,
    })
  })

  it('never passes on a raw body: a proxy page or an unreachable API gets a message of its own', function () {
    const html = errorFromResponse(502, '<html><body>Bad gateway from nginx</body></html>')
    expect(html.code).to.equal('HTTP_502')
    expect(html.message).to.equal('The DevFlow API answered 502 without an error description.')
    expect(html.message + html.hint).not.to.include('nginx')
    const down = errorFromResponse(0, '')
    expect(down.code).to.equal('API_UNREACHABLE')
    expect(down.hint).to.match(/devflow local status/)
  })

  it('offers exact repositories as choices, and free text when owners or any repository are allowed', function () {
    expect(repositoryPicker({items: ['octo/app', 'octo/api'], any: false})).to.deep.equal({names: ['octo/app', 'octo/api'], owners: [], free: false})
    expect(repositoryPicker({items: ['octo/app', 'acme/*'], any: false})).to.deep.equal({names: ['octo/app'], owners: ['acme'], free: true})
    expect(repositoryPicker({items: [], any: true})).to.deep.equal({names: [], owners: [], free: true})
    expect(repositoryPicker({items: [], any: false})).to.deep.equal({names: [], owners: [], free: false})
  })

  it('labels owners as people read them', function () {
    expect(ownerLabel('arn:aws:sts::123456789012:assumed-role/devflow-dev-developer/ada@example.com')).to.equal('ada@example.com (devflow-dev-developer)')
    expect(ownerLabel('arn:aws:iam::123456789012:user/team/ada')).to.equal('ada')
    expect(ownerLabel('cognito:0e06df01-04e7-4ebb-9afb-fed83c3155ae')).to.equal('cognito:0e06df01…')
    expect(ownerLabel('cognito:7c1f3e0a')).to.equal('cognito:7c1f3e0a')
    expect(ownerLabel('github:octocat')).to.equal('github:octocat')
  })
})
