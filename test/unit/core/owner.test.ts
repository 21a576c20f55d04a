import {expect} from 'chai'

import {DevflowError} from '../../../src/core/errors.js'
import {isGeneratedSessionName, ownerOf} from '../../../src/core/owner.js'

describe('core/owner: a stable owner from the caller principal', () => {
  it('keeps IAM users, named role sessions, SSO sessions and non-IAM owners as they are', () => {
    for (const principal of [
      'arn:aws:iam::123456789012:user/ada',
      'arn:aws:iam::123456789012:user/team/ada',
      'arn:aws:sts::123456789012:assumed-role/DevflowDeveloper/ada',
      'arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_Developer_0123456789abcdef/ada@example.com',
      'arn:aws-cn:sts::123456789012:assumed-role/Dev/ada.lovelace',
      'github:octocat',
      'local:ada',
    ]) {
      expect(ownerOf(principal)).to.equal(principal)
    }
  })

  it('refuses SDK-generated role session names with a 403 that says to set role_session_name', () => {
    for (const name of ['aws-sdk-js-1733069912345', 'aws-sdk-js-session-1733069912345', 'botocore-session-1733069912', 'aws-go-sdk-1733069912345678901', 'aws-sdk-java-1733069912345', 'aws-dotnet-sdk-session-638686000000000000', '1733069912345']) {
      expect(isGeneratedSessionName(name), name).to.equal(true)
      const principal = `arn:aws:sts::123456789012:assumed-role/DevflowDeveloper/${name}`
      try {
        ownerOf(principal)
        expect.fail(`${name} should be refused`)
      } catch (error) {
        expect(error).to.be.instanceOf(DevflowError)
        expect(error).to.include({code: 'UNSTABLE_ROLE_SESSION_NAME', httpStatus: 403, exitCode: 4})
        expect((error as DevflowError).hint).to.contain('role_session_name')
      }
    }
  })

  it('does not mistake a person\'s name for a generated one', () => {
    for (const name of ['ada', 'aws-sdk-js', 'botocore-session-ada', 'ada-1733069912345', '12345']) expect(isGeneratedSessionName(name), name).to.equal(false)
  })
})
