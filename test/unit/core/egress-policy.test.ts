import {expect} from 'chai'

import {BASE_EGRESS_ALLOW, DEFAULT_REGISTRIES} from '../../../src/core/egress.js'
import {
  DEFAULT_LOCAL_EGRESS,
  parseEgressPolicy,
  parseRepositoryEgressFile,
  repositoryEgressMessage,
  repositoryEgressVerdict,
  sessionAllowList,
} from '../../../src/core/egress-policy.js'
import {rejection} from '../../helpers/assertions.js'

describe('core/egress-policy: open or filtered, and what becomes of .devflow/egress.txt where', () => {
  it('reads the policy from JSON, keys left out taking the local default\'s', () => {
    expect(parseEgressPolicy('{}')).to.deep.equal(DEFAULT_LOCAL_EGRESS)
    expect(parseEgressPolicy('{"mode": "open"}')).to.deep.equal({...DEFAULT_LOCAL_EGRESS, mode: 'open'})
    expect(parseEgressPolicy('{"allow": ["Mirror.Example.com."], "repositoryAdditions": false}')).to.deep.equal({mode: 'allowList', allow: ['mirror.example.com'], repositoryAdditions: false})
    expect(DEFAULT_LOCAL_EGRESS.allow).to.deep.equal(DEFAULT_REGISTRIES)
  })

  it('refuses a policy that is not JSON, has an unknown key or mode, or a bad name, with a stable code and a hint', async () => {
    for (const text of ['{', '{"mode": "closed"}', '{"allowed": []}', '{"allow": ["not a name"]}']) {
      const error = await rejection((async () => parseEgressPolicy(text))())
      expect(error.code, text).to.be.oneOf(['INVALID_EGRESS_POLICY', 'INVALID_EGRESS_PATTERN'])
      expect(error.hint, text).to.be.a('string').and.not.equal('')
    }
  })

  it('reads a repository file: one name a line, comments and blank lines skipped, a bad line refused', async () => {
    expect(parseRepositoryEgressFile('# our mirrors\n  pypi.corp.example  \n*.cdn.example # images\n\n')).to.deep.equal(['pypi.corp.example', '*.cdn.example'])
    expect((await rejection((async () => parseRepositoryEgressFile('ok.example\nhttp://x.example/\n'))())).code).to.equal('INVALID_EGRESS_PATTERN')
  })

  it('honours additions only through a per-session proxy of a stage that allows them; the DNS Firewall ignores them', () => {
    const allowing = {...DEFAULT_LOCAL_EGRESS, repositoryAdditions: true}
    expect(repositoryEgressVerdict(allowing, 'session-proxy')).to.equal('honoured')
    expect(repositoryEgressVerdict(allowing, 'dns-firewall')).to.equal('ignored')
    expect(repositoryEgressVerdict({...allowing, repositoryAdditions: false}, 'session-proxy')).to.equal('refused')
    expect(repositoryEgressVerdict({...allowing, repositoryAdditions: false}, 'dns-firewall')).to.equal('refused')
    expect(repositoryEgressVerdict({...allowing, mode: 'open'}, 'dns-firewall')).to.equal('open')
  })

  it('builds a session\'s list from the base names, the stage\'s and the honoured additions only', () => {
    const policy = {mode: 'allowList' as const, allow: ['registry.npmjs.org'], repositoryAdditions: true}
    expect(sessionAllowList(policy, ['*.corp.example'])).to.deep.equal([...BASE_EGRESS_ALLOW, 'registry.npmjs.org', '*.corp.example'])
    expect(sessionAllowList({...policy, repositoryAdditions: false}, ['*.corp.example'])).to.deep.equal([...BASE_EGRESS_ALLOW, 'registry.npmjs.org'])
  })

  it('says plainly why a file was ignored and who can extend the list', () => {
    expect(repositoryEgressMessage('ignored', ['a.example'])).to.contain('(a.example) is ignored').and.contain('devflow:egressAllow')
    expect(repositoryEgressMessage('refused')).to.contain('does not allow repository additions')
    expect(repositoryEgressMessage('honoured', ['a.example'])).to.contain('added to this session')
  })
})
