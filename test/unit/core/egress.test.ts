import {expect} from 'chai'

import {awsEndpointDomains, BASE_EGRESS_ALLOW, isEgressAllowed, parseEgressList, parseEgressPattern} from '../../../src/core/egress.js'
import {rejection} from '../../helpers/assertions.js'

describe('core/egress: the allow-list rule shared by the DNS Firewall and the local proxy', () => {
  const list = parseEgressList(['github.com', '*.githubusercontent.com', 'Registry.NPMJS.org.'])

  it('allows exact names, and below a *.suffix only (not its apex, not a look-alike)', () => {
    expect(isEgressAllowed('github.com', list)).to.equal(true)
    expect(isEgressAllowed('GitHub.com.', list), 'case and trailing dot').to.equal(true)
    expect(isEgressAllowed('api.github.com', list), 'an exact name allows no subdomain').to.equal(false)
    expect(isEgressAllowed('raw.githubusercontent.com', list)).to.equal(true)
    expect(isEgressAllowed('a.b.githubusercontent.com', list)).to.equal(true)
    expect(isEgressAllowed('githubusercontent.com', list)).to.equal(false)
    expect(isEgressAllowed('evilgithubusercontent.com', list)).to.equal(false)
    expect(isEgressAllowed('registry.npmjs.org', list)).to.equal(true)
    expect(isEgressAllowed('example.com', list)).to.equal(false)
  })

  it('reads lists as JSON arrays or comma/space/newline-separated text, without duplicates', () => {
    expect(parseEgressList('a.example, *.b.example\nc.example  a.example')).to.deep.equal(['a.example', '*.b.example', 'c.example'])
    expect(parseEgressList('')).to.deep.equal([])
    expect(parseEgressList(undefined)).to.deep.equal([])
  })

  it('refuses what is not a name or a leading-wildcard pattern', async () => {
    for (const bad of ['*', 'a.*.example', 'http://example.com', '-bad.example', 'a..example', 'exa mple.com']) {
      const error = await rejection((async () => parseEgressPattern(bad))())
      expect(error.code, bad).to.equal('INVALID_EGRESS_PATTERN')
      expect(error.exitCode).to.equal(2)
    }
  })

  it('covers GitHub, the Anthropic API and the task\'s AWS endpoints in its region', () => {
    expect(isEgressAllowed('api.github.com', parseEgressList([...BASE_EGRESS_ALLOW]))).to.equal(true)
    expect(isEgressAllowed('api.anthropic.com', parseEgressList([...BASE_EGRESS_ALLOW]))).to.equal(true)
    const aws = parseEgressList(awsEndpointDomains('eu-west-1'))
    expect(isEgressAllowed('123456789012.dkr.ecr.eu-west-1.amazonaws.com', aws)).to.equal(true)
    expect(isEgressAllowed('prod-eu-west-1-starport-layer-bucket.s3.eu-west-1.amazonaws.com', aws)).to.equal(true)
    expect(isEgressAllowed('dynamodb.eu-west-1.amazonaws.com', aws), 'the task has no business with the tables').to.equal(false)
  })
})
