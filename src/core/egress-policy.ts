/**
 * A stage's egress policy (issue 15) as every part reads it: filtered by an allow-list or open,
 * the stage's names beyond the base list, and whether a repository may add names of its own in
 * `.devflow/egress.txt`.
 *
 * What is honoured where:
 *   - locally (the Docker runtime's per-session proxy): a repository's additions join that
 *     session's list when the stage allows additions;
 *   - on AWS the DNS Firewall's domain list is the stage's, shared by every task and changed only
 *     by a deploy: a repository's file is never honoured there; the workspace reports it in the
 *     prompt's events as ignored, and a platform engineer extends the stage's list
 *     (`-c devflow:egressAllow=...`).
 * The policy travels as JSON text: the stack output and Lambda variable on AWS, the `egress`
 * setting (DEVFLOW_EGRESS) of the local stage.
 */
import * as z from 'zod'

import {BASE_EGRESS_ALLOW, DEFAULT_REGISTRIES, parseEgressList} from './egress.js'
import {invalidInput} from './errors.js'

export type EgressMode = 'allowList' | 'open'

export interface EgressPolicy {
  readonly mode: EgressMode
  /** The stage's names beyond BASE_EGRESS_ALLOW (its registries and extras). */
  readonly allow: readonly string[]
  /** May a repository's `.devflow/egress.txt` add names (where the enforcer can honour them)? */
  readonly repositoryAdditions: boolean
}

/** The repository's own additions: one name or `*.suffix` a line, `#` comments. */
export const REPOSITORY_EGRESS_FILE = '.devflow/egress.txt'

/** The environment variable that carries the policy (local platform, Lambda functions). */
export const EGRESS_ENV = 'DEVFLOW_EGRESS'

/** The workspace's own variable: what becomes of `.devflow/egress.txt` in this session. */
export const REPOSITORY_EGRESS_ENV = 'DEVFLOW_REPOSITORY_EGRESS'

/** The local platform's default: filtered, the default registries, additions honoured by its proxy. */
export const DEFAULT_LOCAL_EGRESS: EgressPolicy = {mode: 'allowList', allow: DEFAULT_REGISTRIES, repositoryAdditions: true}

const PolicySchema = z
  .object({mode: z.enum(['allowList', 'open']).optional(), allow: z.array(z.string()).optional(), repositoryAdditions: z.boolean().optional()})
  .strict()

const HINT = 'Give {"mode": "allowList" | "open", "allow": ["registry.npmjs.org", "*.example.com"], "repositoryAdditions": true}; every key is optional.'

/** Reads a policy from its JSON text; keys left out take the local default's. */
export function parseEgressPolicy(text: string, fallback: EgressPolicy = DEFAULT_LOCAL_EGRESS): EgressPolicy {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (error) {
    throw invalidInput('INVALID_EGRESS_POLICY', `The egress policy is not JSON: ${(error as Error).message}.`, HINT, {cause: error})
  }
  const parsed = PolicySchema.safeParse(value)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]
    throw invalidInput('INVALID_EGRESS_POLICY', `The egress policy is not valid: ${issue.path.join('.') || 'value'}: ${issue.message}.`, HINT)
  }
  return {
    mode: parsed.data.mode ?? fallback.mode,
    allow: parsed.data.allow ? parseEgressList(parsed.data.allow) : fallback.allow,
    repositoryAdditions: parsed.data.repositoryAdditions ?? fallback.repositoryAdditions,
  }
}

/** Every name a session of the stage may reach before any repository addition (the DevFlow API aside). */
export function stageAllowList(policy: EgressPolicy): string[] {
  return [...new Set([...BASE_EGRESS_ALLOW, ...policy.allow])]
}

/** The names of a repository's `.devflow/egress.txt`; a bad line is an INVALID_EGRESS_PATTERN naming it. */
export function parseRepositoryEgressFile(text: string): string[] {
  const lines = text.split('\n').map((line) => line.replace(/#.*$/, '').trim())
  return parseEgressList(lines.filter((line) => line !== ''))
}

export type RepositoryEgressVerdict =
  /** The stage is open: nothing is filtered, the file changes nothing. */
  | 'open'
  /** The file's names join the session's list. */
  | 'honoured'
  /** The stage does not allow additions. */
  | 'refused'
  /** The enforcer cannot change per session (the DNS Firewall). */
  | 'ignored'

/** Where the policy is enforced: a per-session proxy can honour additions, the stage-wide DNS Firewall cannot. */
export type EgressEnforcer = 'session-proxy' | 'dns-firewall'

/** What becomes of a repository's additions under this policy and enforcer. */
export function repositoryEgressVerdict(policy: EgressPolicy, enforcer: EgressEnforcer): RepositoryEgressVerdict {
  if (policy.mode === 'open') return 'open'
  if (!policy.repositoryAdditions) return 'refused'
  return enforcer === 'session-proxy' ? 'honoured' : 'ignored'
}

/** The one line the workspace reports when a repository has the file: what happened to its names (named when known). */
export function repositoryEgressMessage(verdict: RepositoryEgressVerdict, names?: readonly string[]): string {
  const list = names === undefined ? '' : ` (${names.length === 0 ? 'no names' : names.join(', ')})`
  switch (verdict) {
    case 'honoured':
      return `${REPOSITORY_EGRESS_FILE}${list} is added to this session's egress allow-list.`
    case 'open':
      return `${REPOSITORY_EGRESS_FILE}${list} changes nothing: the stage's egress is open.`
    case 'refused':
      return `${REPOSITORY_EGRESS_FILE}${list} is ignored: the stage does not allow repository additions; a platform engineer can add names to the stage's list (devflow:egressAllow).`
    case 'ignored':
      return `${REPOSITORY_EGRESS_FILE}${list} is ignored: on AWS the DNS Firewall's list is the stage's, the same for every session; a platform engineer adds names with \`devflow deploy -c devflow:egressAllow=...\`.`
  }
}

/** The list a session's proxy enforces: the stage's, plus the repository's names when honoured. */
export function sessionAllowList(policy: EgressPolicy, repositoryNames: readonly string[], extra: readonly string[] = []): string[] {
  const additions = repositoryEgressVerdict(policy, 'session-proxy') === 'honoured' ? repositoryNames : []
  return [...new Set([...stageAllowList(policy), ...additions, ...extra])]
}
