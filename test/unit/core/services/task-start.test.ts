import {expect} from 'chai'

import {gitAuthor} from '../../../../src/core/services/task-start.js'

describe('core services: the workspace environment', () => {
  it('derives a commit identity from the caller', () => {
    expect(gitAuthor('arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_Dev_0123/alice@example.com')).to.deep.equal({name: 'alice', email: 'alice@example.com'})
    expect(gitAuthor('arn:aws:iam::123456789012:user/bob')).to.deep.equal({name: 'bob', email: 'bob@users.noreply.devflow.local'})
    expect(gitAuthor('carol')).to.deep.equal({name: 'carol', email: 'carol@users.noreply.devflow.local'})
    expect(gitAuthor('access-key/AKIA 1')).to.deep.equal({name: 'AKIA-1', email: 'AKIA-1@users.noreply.devflow.local'})
  })
})
