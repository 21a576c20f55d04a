import {expect} from 'chai'

import {DevflowError, ExitCode, conflict, exitCodeFor, httpStatusFor, kindForHttpStatus, notFound, tooLarge} from '../../../src/core/errors.js'

describe('core/errors', () => {
  it('derives exit codes and HTTP statuses from the kind', () => {
    const e = notFound('SESSION_NOT_FOUND', 'No session s-x.', 'Run `devflow session list`.')
    expect(e.exitCode).to.equal(ExitCode.NOT_FOUND)
    expect(e.httpStatus).to.equal(404)
    expect(tooLarge('PROMPT_TOO_LARGE', 'm', 'h').httpStatus).to.equal(413)
    expect(conflict('X', 'm', 'h').exitCode).to.equal(5)
    expect(exitCodeFor('timeout')).to.equal(6)
    expect(exitCodeFor('remote')).to.equal(7)
    expect(httpStatusFor('unauthenticated')).to.equal(401)
  })

  it('serialises to the error body of DESIGN.md', () => {
    const e = new DevflowError({code: 'C', message: 'm', hint: 'h', kind: 'invalid', cause: new Error('inner')})
    expect(JSON.parse(JSON.stringify(e))).to.deep.equal({error: {code: 'C', message: 'm', hint: 'h'}})
    expect((e.cause as Error).message).to.equal('inner')
  })

  it('maps HTTP statuses back to kinds for API clients', () => {
    expect(kindForHttpStatus(404)).to.equal('not_found')
    expect(kindForHttpStatus(409)).to.equal('conflict')
    expect(kindForHttpStatus(429)).to.equal('unavailable')
    expect(kindForHttpStatus(500)).to.equal('internal')
    expect(kindForHttpStatus(599)).to.equal('remote')
  })
})
