/**
 * `devflow doctor`'s egress check: is the stage's egress filtered, by what, with which list, and
 * what becomes of a repository's `.devflow/egress.txt`; or is it open (a warning, so nobody runs
 * open without seeing it).
 */
import {type EgressEnforcer, type EgressPolicy, repositoryEgressVerdict, stageAllowList} from '../core/egress-policy.js'
import type {CheckResult} from './doctor.js'

export interface EgressCheckInput {
  readonly stage: string
  readonly policy: EgressPolicy
  /** The DNS Firewall of a deployed stage, or the local Docker runtime's per-session proxy. */
  readonly enforcer: EgressEnforcer
}

export function egressCheck({stage, policy, enforcer}: EgressCheckInput): CheckResult {
  const details = {stage, mode: policy.mode, enforcer, allow: stageAllowList(policy), repositoryAdditions: repositoryEgressVerdict(policy, enforcer)}
  if (policy.mode === 'open') {
    return {
      name: 'egress',
      status: 'WARN',
      code: 'EGRESS_OPEN',
      message: `Egress of stage ${stage} is open: workspaces may reach any host.`,
      hint: enforcer === 'dns-firewall' ? `Deploy with -c devflow:egress=allowList to filter it (\`devflow deploy --stage ${stage} -c devflow:egress=allowList\`).` : 'Filter it with `devflow config set egress \'{"mode": "allowList"}\' --stage local`, then `devflow local down && devflow local up`.',
      details,
    }
  }
  const by = enforcer === 'dns-firewall' ? 'the DNS Firewall on the workspace VPC' : 'the local egress proxy (Docker workspaces; host processes are unrestricted)'
  const additions = {honoured: 'added per session', refused: 'not allowed', ignored: 'ignored (the firewall list is the stage\'s)', open: 'moot'}[details.repositoryAdditions]
  return {
    name: 'egress',
    status: 'PASS',
    message: `Egress of stage ${stage} is filtered by ${by}: ${details.allow.join(', ')} (and the DevFlow API${enforcer === 'dns-firewall' ? ', the task\'s AWS endpoints' : ''}); .devflow/egress.txt: ${additions}.`,
    details,
  }
}
