/**
 * Who is an admin of a stage: the operators who may see every user's sessions (`GET
 * /admin/sessions`, the console's "All sessions" view, `session list --all`).
 *
 *  - On AWS, console callers who are members of the Cognito group the console construct creates
 *    (`devflow-admins`; the group arrives in the ID token's `cognito:groups` claim), and IAM callers
 *    who are sessions of the stage's operator role (`devflow-<stage>-operator`).
 *  - Locally, the local user (the only user; sessions from GitHub webhooks are `github:<login>`'s).
 *  - The CLI's `--admin` mode, which calls the services with the operator's own credentials,
 *    marks its caller `admin` itself.
 *
 * A caller's groups are only ever taken from claims API Gateway's Cognito authorizer verified
 * (src/api/console-identity.ts), and a Cognito owner is `cognito:<sub>` (core/owner.ts), so no
 * principal rule can match a console user by accident, nor a group an IAM caller.
 */
import {forbidden} from './errors.js'
import type {Caller} from './session-api.js'

export interface AdminPolicy {
  /** Owner ids that are admins as they are (locally: `local:<user>`). */
  readonly principals?: readonly string[]
  /**
   * IAM roles whose sessions are admins, as role ARNs (`arn:aws:iam::<account>:role/<name>`, a
   * path allowed): the caller `arn:aws:sts::<account>:assumed-role/<name>/<session>` matches.
   */
  readonly roleArns?: readonly string[]
  /** Cognito groups whose members are admins in the console. */
  readonly consoleGroups?: readonly string[]
}

/** The Cognito group of console admins that the console construct creates. */
export const CONSOLE_ADMIN_GROUP = 'devflow-admins'

/** No admins but the CLI's `--admin` mode. */
export const NO_ADMINS: AdminPolicy = {}

const ROLE_ARN = /^arn:([\w-]+):iam::(\d{12}):role\/(?:[\w+=,.@/-]*\/)?([\w+=,.@-]+)$/
const ASSUMED_ROLE = /^arn:([\w-]+):sts::(\d{12}):assumed-role\/([\w+=,.@-]+)\/[\w+=,.@-]+$/

export function isAdmin(policy: AdminPolicy | undefined, caller: Caller): boolean {
  if (caller.admin) return true
  if (!policy) return false
  if (policy.principals?.includes(caller.userId)) return true
  if (caller.groups?.some((group) => policy.consoleGroups?.includes(group))) return true
  const assumed = ASSUMED_ROLE.exec(caller.userId)
  if (!assumed) return false
  return (policy.roleArns ?? []).some((arn) => {
    const role = ROLE_ARN.exec(arn)
    return role !== null && role[1] === assumed[1] && role[2] === assumed[2] && role[3] === assumed[3]
  })
}

/** The 403 a non-admin gets, saying who the admins of this stage are. */
export function assertAdmin(policy: AdminPolicy | undefined, caller: Caller): void {
  if (isAdmin(policy, caller)) return
  const ways = [
    ...(policy?.consoleGroups?.length ? [`in the console, be a member of the Cognito group ${policy.consoleGroups.join(' or ')} (an operator runs \`aws cognito-idp admin-add-user-to-group --user-pool-id <ConsoleUserPoolId> --username <you> --group-name ${policy.consoleGroups[0]}\`, then you sign in again)`] : []),
    ...(policy?.roleArns?.length ? [`from the CLI, assume the operator role ${policy.roleArns.join(' or ')}`] : []),
  ]
  throw forbidden(
    'ADMIN_ONLY',
    'Only an admin of this stage can list every user\'s sessions.',
    ways.length > 0
      ? `List your own sessions instead, or ${ways.join('; or ')}; or use the CLI's --admin mode with operator credentials.`
      : 'List your own sessions instead, or use the CLI\'s --admin mode with operator credentials.',
    {details: {caller: caller.userId}},
  )
}

/** Group claims as API Gateway passes them: a REST API's `a,b`, an HTTP API's `[a b]`, or a list. */
export function parseGroupsClaim(value: unknown): string[] {
  if (Array.isArray(value)) return value.filter((g): g is string => typeof g === 'string' && g !== '')
  if (typeof value !== 'string') return []
  return value
    .trim()
    .replace(/^\[(.*)\]$/, '$1')
    .split(/[\s,]+/)
    .filter(Boolean)
}
