/**
 * A session's owner from the caller's principal (DESIGN.md, "Owner identities"): an IAM caller's
 * stable principal, never a role session name an SDK generated. An assumed role's ARN ends in its
 * role session name; a profile that assumes a role without `role_session_name` gets a new
 * `botocore-session-<n>` / `aws-sdk-js-<ms>` each run, so the same person would own a new set of
 * sessions every time. Such callers are refused with the fix; every other principal (an IAM user,
 * an SSO role whose session name is the person, `github:`, `local:`) is the owner as it is.
 */
import {forbidden} from './errors.js'

/** Role session names the AWS SDKs and CLIs make up when none is configured. */
const GENERATED_SESSION_NAMES = [
  /^aws-sdk-js(?:-v3)?(?:-session)?-\d+$/,
  /^botocore-session-\d+$/,
  /^aws-go-sdk-\d+$/,
  /^aws-sdk-(?:java|rust|php|ruby|cpp|kotlin|swift)-\d+$/,
  /^aws-dotnet-sdk-session-\d+$/,
  /^\d{10,}$/,
]

const ASSUMED_ROLE = /^arn:[\w-]+:sts::\d{12}:assumed-role\/([\w+=,.@-]+)\/([\w+=,.@-]+)$/

export function isGeneratedSessionName(name: string): boolean {
  return GENERATED_SESSION_NAMES.some((pattern) => pattern.test(name))
}

/** The owner id of a caller; throws a 403 for an assumed role whose session name an SDK generated. */
export function ownerOf(principalArn: string): string {
  const assumed = ASSUMED_ROLE.exec(principalArn)
  if (assumed && isGeneratedSessionName(assumed[2])) {
    throw forbidden(
      'UNSTABLE_ROLE_SESSION_NAME',
      `The caller ${principalArn} is a session of role ${assumed[1]} whose name the AWS SDK generated; it changes on every run, so it cannot own sessions.`,
      'Set `role_session_name` in the AWS profile (for example your user name, as the role\'s trust policy requires: README "Deploying to AWS"), or sign in with AWS IAM Identity Center.',
      {details: {principal: principalArn, roleSessionName: assumed[2]}},
    )
  }
  return principalArn
}
