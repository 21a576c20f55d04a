import {expect} from 'chai'

import {DevflowError} from '../../../src/core/errors.js'
import {assertRepositoryAllowed, repositoryChoices, parseRepositoryAccess, repositoriesFor} from '../../../src/core/repository-access.js'
import {parseRepoRef} from '../../../src/core/validation.js'

describe('core: the repository allow-list', function () {
  it('reads a comma-separated list or JSON, and refuses anything else with its code', function () {
    expect(parseRepositoryAccess('octo/app, octo/*', 'X')).to.deep.equal({default: ['octo/app', 'octo/*']})
    expect(parseRepositoryAccess('{"default": [], "principals": {"arn:*": ["*"]}}', 'X')).to.deep.equal({default: [], principals: {'arn:*': ['*']}})
    for (const bad of ['{"default": "octo/app"}', '{not json', 'octo', 'octo/app/x', '{"default": [], "extra": 1}']) {
      expect(() => parseRepositoryAccess(bad, 'DEVFLOW_REPOSITORIES'), bad).to.throw(DevflowError).with.property('code', 'INVALID_REPOSITORY_ALLOW_LIST')
    }
  })

  it('adds the repositories of every principal pattern the caller matches', function () {
    const access = {default: ['octo/docs'], principals: {'arn:aws:sts::1:assumed-role/Dev/*': ['octo/*'], 'arn:aws:iam::1:user/bob': ['acme/app']}}
    expect(repositoriesFor(access, 'arn:aws:sts::1:assumed-role/Dev/alice')).to.deep.equal(['octo/docs', 'octo/*'])
    expect(repositoriesFor(access, 'arn:aws:iam::1:user/bob')).to.deep.equal(['octo/docs', 'acme/app'])
    // A pattern's dots are literal, and it must match the whole identity.
    expect(repositoriesFor(access, 'arn:aws:sts::1:assumed-role/Dev')).to.deep.equal(['octo/docs'])
    expect(repositoriesFor(access, 'xarn:aws:iam::1:user/bob')).to.deep.equal(['octo/docs'])
  })

  it('matches owner/name, owner/* and *, case-insensitively; anything else is REPOSITORY_NOT_ALLOWED (403, exit 4)', function () {
    const check = (patterns: string[], repo: string) => () => assertRepositoryAllowed({default: patterns}, 'u', parseRepoRef(repo))
    expect(check(['octo/app'], 'Octo/App')).not.to.throw()
    expect(check(['octo/*'], 'octo/other')).not.to.throw()
    expect(check(['*'], 'anyone/anything')).not.to.throw()
    expect(check(['octo/app'], 'octo/app2')).to.throw(DevflowError).with.property('code', 'REPOSITORY_NOT_ALLOWED')
    expect(check(['octo/*'], 'octopus/app')).to.throw(DevflowError).with.property('httpStatus', 403)
    expect(check([], 'octo/app')).to.throw(DevflowError).with.property('exitCode', 4)
  })

  it('tells the start form the caller\'s entries, and `*` as any rather than an entry', function () {
    const access = {default: ['octo/docs', 'octo/docs'], principals: {'cognito:*': ['acme/*', '*']}}
    expect(repositoryChoices(access, 'arn:aws:iam::1:user/bob')).to.deep.equal({items: ['octo/docs'], any: false})
    expect(repositoryChoices(access, 'cognito:7c1f')).to.deep.equal({items: ['octo/docs', 'acme/*'], any: true})
  })
})
