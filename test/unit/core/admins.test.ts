import {expect} from 'chai'

import {assertAdmin, CONSOLE_ADMIN_GROUP, isAdmin, parseGroupsClaim} from '../../../src/core/admins.js'
import {DevflowError, exitCodeFor} from '../../../src/core/errors.js'

const OPERATOR_ROLE = 'arn:aws:iam::123456789012:role/devflow-dev-operator'
const AWS_POLICY = {consoleGroups: [CONSOLE_ADMIN_GROUP], roleArns: [OPERATOR_ROLE]}

describe('core/admins: who may list every user\'s sessions', () => {
  it('admits sessions of the operator role in its own account and partition only', () => {
    expect(isAdmin(AWS_POLICY, {userId: 'arn:aws:sts::123456789012:assumed-role/devflow-dev-operator/ada'})).to.equal(true)
    for (const userId of [
      'arn:aws:sts::123456789012:assumed-role/devflow-dev-developer/ada',
      'arn:aws:sts::210987654321:assumed-role/devflow-dev-operator/ada',
      'arn:aws-cn:sts::123456789012:assumed-role/devflow-dev-operator/ada',
      'arn:aws:sts::123456789012:assumed-role/devflow-dev-operator-2/ada',
      'arn:aws:iam::123456789012:user/devflow-dev-operator',
      'arn:aws:iam::123456789012:role/devflow-dev-operator',
    ]) {
      expect(isAdmin(AWS_POLICY, {userId}), userId).to.equal(false)
    }
  })

  it('matches a role with a path by its name, as an assumed-role ARN drops the path', () => {
    const policy = {roleArns: ['arn:aws:iam::123456789012:role/teams/platform/Ops']}
    expect(isAdmin(policy, {userId: 'arn:aws:sts::123456789012:assumed-role/Ops/ada'})).to.equal(true)
  })

  it('admits console members of the admin group, and never takes a group from a principal', () => {
    expect(isAdmin(AWS_POLICY, {userId: 'cognito:7c1f3e0a', groups: ['readers', CONSOLE_ADMIN_GROUP]})).to.equal(true)
    expect(isAdmin(AWS_POLICY, {userId: 'cognito:7c1f3e0a', groups: ['readers']})).to.equal(false)
    expect(isAdmin(AWS_POLICY, {userId: 'cognito:7c1f3e0a'})).to.equal(false)
    expect(isAdmin(AWS_POLICY, {userId: CONSOLE_ADMIN_GROUP})).to.equal(false)
  })

  it('admits listed principals (the local user) and the CLI\'s --admin caller; nobody without a policy', () => {
    expect(isAdmin({principals: ['local:ada']}, {userId: 'local:ada'})).to.equal(true)
    expect(isAdmin({principals: ['local:ada']}, {userId: 'github:ada'})).to.equal(false)
    expect(isAdmin(undefined, {userId: 'arn:aws:sts::123456789012:assumed-role/x/y', admin: true})).to.equal(true)
    expect(isAdmin(undefined, {userId: 'local:ada', groups: [CONSOLE_ADMIN_GROUP]})).to.equal(false)
  })

  it('refuses anyone else with a 403 ADMIN_ONLY (exit 4) whose hint names the group and the role', () => {
    let error: unknown
    try {
      assertAdmin(AWS_POLICY, {userId: 'cognito:abc', groups: []})
    } catch (caught) {
      error = caught
    }
    expect(error).to.be.instanceOf(DevflowError)
    const refused = error as DevflowError
    expect([refused.code, refused.httpStatus, exitCodeFor(refused.kind)]).to.deep.equal(['ADMIN_ONLY', 403, 4])
    expect(refused.hint).to.include(`--group-name ${CONSOLE_ADMIN_GROUP}`).and.to.include(OPERATOR_ROLE).and.to.include('--admin')
    expect(() => assertAdmin({}, {userId: 'local:someone'})).to.throw(DevflowError, /Only an admin/)
  })

  it('reads the groups claim in each shape API Gateway passes it', () => {
    expect(parseGroupsClaim('devflow-admins')).to.deep.equal(['devflow-admins'])
    expect(parseGroupsClaim('readers,devflow-admins')).to.deep.equal(['readers', 'devflow-admins'])
    expect(parseGroupsClaim('[readers devflow-admins]')).to.deep.equal(['readers', 'devflow-admins'])
    expect(parseGroupsClaim(['readers', 'devflow-admins', 3])).to.deep.equal(['readers', 'devflow-admins'])
    expect(parseGroupsClaim(undefined)).to.deep.equal([])
    expect(parseGroupsClaim('')).to.deep.equal([])
  })
})
