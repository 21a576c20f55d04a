/**
 * `secrets set|status`: a deployed stage's secrets live in Secrets Manager (the stack creates them),
 * the local platform's Claude API key in its data dir. The Secrets Manager client lives for one call.
 */
import {claudeApiKeyValue, type GithubAppCredentials, type SecretsAdmin, type SecretStatus} from '../adapters/aws/secrets-admin.js'
import {LOCAL_STAGE} from '../adapters/local/paths.js'
import {setLocalSecret} from '../adapters/local/secret-file.js'
import {invalidInput} from '../core/errors.js'

export const SECRET_NAMES = ['github-app', 'claude-api-key'] as const
export type SecretName = (typeof SECRET_NAMES)[number]

/** Where a value comes from, read only once it is needed. */
export interface SecretInput {
  githubApp(): Promise<GithubAppCredentials>
  /** Whether any of the App's credentials (id, key, installation) were given. */
  hasAppCredentials(): boolean
  /** The webhook secret, when one was given. */
  webhookSecret(): Promise<string | undefined>
  claudeApiKey(): Promise<string>
}

export interface StageSecretsDeps {
  readonly openAdmin: () => Promise<SecretsAdmin>
  /** The local platform's data dir. */
  readonly localDataDir: () => Promise<string>
}

async function withAdmin<T>(deps: Pick<StageSecretsDeps, 'openAdmin'>, work: (admin: SecretsAdmin) => Promise<T>): Promise<T> {
  const admin = await deps.openAdmin()
  try {
    return await work(admin)
  } finally {
    admin.close()
  }
}

export async function setStageSecret(deps: StageSecretsDeps, stage: string, name: SecretName, input: SecretInput): Promise<SecretStatus> {
  if (stage === LOCAL_STAGE) return setLocalStageSecret(deps, name, input)
  return withAdmin(deps, async (admin) => (name === 'github-app' ? putGithubApp(admin, input) : admin.putClaudeApiKey(claudeApiKeyValue(await input.claudeApiKey()))))
}

/** The webhook secret alone is added to the App already stored; with credentials, all go together. */
async function putGithubApp(admin: SecretsAdmin, input: SecretInput): Promise<SecretStatus> {
  const webhookSecret = await input.webhookSecret()
  if (webhookSecret !== undefined && !input.hasAppCredentials()) return admin.putGithubWebhookSecret(webhookSecret)
  return admin.putGithubApp({...(await input.githubApp()), ...(webhookSecret === undefined ? {} : {webhookSecret})})
}

/**
 * The local platform uses the user's own GitHub token, not an App: of `github-app` it keeps only
 * the webhook secret, which its server checks GitHub webhooks with (sent to it through a tunnel;
 * its comments and pull requests are then the user's).
 */
async function setLocalStageSecret(deps: StageSecretsDeps, name: SecretName, input: SecretInput): Promise<SecretStatus> {
  if (name === 'github-app') {
    const webhookSecret = input.hasAppCredentials() ? undefined : await input.webhookSecret()
    if (webhookSecret === undefined) {
      throw invalidInput(
        'NOT_FOR_LOCAL_STAGE',
        'The local platform does not use a GitHub App.',
        'It uses your own token: set GITHUB_TOKEN (or log in with `gh auth login`) before `devflow local up`. For GitHub webhooks set only their secret: `devflow secrets set github-app --webhook-secret-file FILE --stage local`.',
      )
    }
    setLocalSecret(await deps.localDataDir(), 'github-webhook-secret', webhookSecret)
    return {key: 'githubApp', name: 'github-app', exists: true, set: true, updatedAt: new Date().toISOString()}
  }
  const dataDir = await deps.localDataDir()
  setLocalSecret(dataDir, 'claude-api-key', claudeApiKeyValue(await input.claudeApiKey()))
  return {key: 'claudeApiKey', name: 'claude-api-key', exists: true, set: true, updatedAt: new Date().toISOString()}
}

export function stageSecretsStatus(deps: Pick<StageSecretsDeps, 'openAdmin'>): Promise<SecretStatus[]> {
  return withAdmin(deps, (admin) => admin.status())
}
