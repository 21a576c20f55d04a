import {expect} from 'chai'

import type {SessionRecord} from '../../../../src/core/models.js'
import {type CoreDeps, type CoreSettings, DEFAULT_CORE_SETTINGS} from '../../../../src/core/services/index.js'
import {gitAuthor, workspaceEnvironment} from '../../../../src/core/services/task-start.js'

describe('core services: the workspace environment', () => {
  it('derives a commit identity from the caller', () => {
    expect(gitAuthor('arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_Dev_0123/alice@example.com')).to.deep.equal({name: 'alice', email: 'alice@example.com'})
    expect(gitAuthor('arn:aws:iam::123456789012:user/bob')).to.deep.equal({name: 'bob', email: 'bob@users.noreply.devflow.local'})
    expect(gitAuthor('carol')).to.deep.equal({name: 'carol', email: 'carol@users.noreply.devflow.local'})
    expect(gitAuthor('access-key/AKIA 1')).to.deep.equal({name: 'AKIA-1', email: 'AKIA-1@users.noreply.devflow.local'})
  })
})

describe('core services: what the workspace is told of .devflow/egress.txt', () => {
  const record = {id: 's-aaaaaaaaaaaaaaaaaaaa', repo: 'octo/app', branch: 'main', userId: 'local:ada'} as SessionRecord
  const environmentWith = (egress?: CoreSettings['egress']) => workspaceEnvironment({settings: {...DEFAULT_CORE_SETTINGS, ...(egress ? {egress} : {})}} as CoreDeps, record, {userId: 'local:ada'})
  const policy = {mode: 'allowList' as const, allow: [], repositoryAdditions: true}

  it('AWS (the DNS Firewall): ignored, with who can extend the stage\'s list', () => {
    const env = environmentWith({policy, enforcer: 'dns-firewall'})
    expect(env.DEVFLOW_REPOSITORY_EGRESS).to.equal('ignored')
    expect(env.DEVFLOW_REPOSITORY_EGRESS_NOTE).to.contain('devflow:egressAllow')
  })

  it('the local proxy: honoured, or refused when the stage allows no additions; nothing said without a policy', () => {
    expect(environmentWith({policy, enforcer: 'session-proxy'}).DEVFLOW_REPOSITORY_EGRESS).to.equal('honoured')
    expect(environmentWith({policy: {...policy, repositoryAdditions: false}, enforcer: 'session-proxy'}).DEVFLOW_REPOSITORY_EGRESS).to.equal('refused')
    expect(environmentWith()).to.not.have.property('DEVFLOW_REPOSITORY_EGRESS')
  })
})
