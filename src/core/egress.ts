/**
 * The egress allow-list: which hosts a workspace may reach. One rule for both enforcers, the DNS
 * Firewall on AWS (infra/constructs/egress-firewall.ts) and the local forward proxy
 * (src/adapters/local/egress-proxy.ts):
 *   - `example.com` allows exactly that name (single labels such as `localhost` too);
 *   - `*.example.com` allows every name below it (a.example.com, a.b.example.com), not the apex,
 *     as Route 53 Resolver DNS Firewall reads its domain lists.
 * Names are compared lower-case, without a trailing dot.
 */
import {invalidInput} from './errors.js'

/** What every session needs whatever the stage: GitHub (git, API, raw content) and the Anthropic API. */
export const BASE_EGRESS_ALLOW: readonly string[] = ['github.com', '*.github.com', '*.githubusercontent.com', 'api.anthropic.com']

/** The package registries a stage allows unless it lists its own (infra/stages.ts). */
export const DEFAULT_REGISTRIES: readonly string[] = ['registry.npmjs.org', 'registry.yarnpkg.com', 'pypi.org', 'files.pythonhosted.org']

/**
 * The AWS endpoints the workspace task reaches from its own network interface in `region`: image
 * pulls (ECR and its S3 layer buckets), logs, the Claude key (Secrets Manager), ECS Exec
 * (ssmmessages) and STS for the bootstrap call. `region` may be a CDK token.
 */
export function awsEndpointDomains(region: string): string[] {
  return [
    `api.ecr.${region}.amazonaws.com`,
    `*.dkr.ecr.${region}.amazonaws.com`,
    `*.s3.${region}.amazonaws.com`,
    `s3.${region}.amazonaws.com`,
    `logs.${region}.amazonaws.com`,
    `secretsmanager.${region}.amazonaws.com`,
    `ssmmessages.${region}.amazonaws.com`,
    `sts.${region}.amazonaws.com`,
  ]
}

const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/

/** Normalises and checks one pattern; throws INVALID_EGRESS_PATTERN naming it. */
export function parseEgressPattern(raw: string): string {
  const pattern = raw.trim().toLowerCase().replace(/\.$/, '')
  const name = pattern.startsWith('*.') ? pattern.slice(2) : pattern
  const labels = name.split('.')
  if (name.length > 253 || !labels.every((label) => LABEL.test(label))) {
    throw invalidInput(
      'INVALID_EGRESS_PATTERN',
      `"${raw}" is not a host name or a *.suffix pattern.`,
      'Give names such as registry.npmjs.org or *.example.com (a wildcard only as the first label).',
    )
  }
  return pattern
}

/** A comma-, space- or newline-separated list, or a JSON array of strings (as a context value may come). */
export function parseEgressList(value: unknown): string[] {
  const items = Array.isArray(value) ? value.map(String) : String(value ?? '').split(/[\s,]+/)
  return [...new Set(items.filter((item) => item.trim() !== '').map(parseEgressPattern))]
}

export function normaliseHost(host: string): string {
  return host.trim().toLowerCase().replace(/\.$/, '')
}

/** Does `host` match one of the (already parsed) patterns? */
export function isEgressAllowed(host: string, patterns: readonly string[]): boolean {
  const name = normaliseHost(host)
  return patterns.some((pattern) => (pattern.startsWith('*.') ? name.endsWith(pattern.slice(1)) && name.length > pattern.length - 1 : name === pattern))
}
