import {expect} from 'chai'

import type {DeliveryRecord} from '../../../src/core/github/deliveries.js'
import {githubCheck, githubStatus, type GithubStatusDeps, webhookUrl} from '../../../src/operations/github-status.js'

function delivery(id: string, status: DeliveryRecord['status'], detail?: string): DeliveryRecord {
  const at = '2026-12-01T10:00:00.000Z'
  return {id, event: 'issues', action: 'labeled', repo: 'octo/hello', receivedAt: at, updatedAt: at, status, attempts: 1, expiresAt: '2026-12-15T10:00:00.000Z', ...(detail ? {detail} : {})}
}

function deps(app: Awaited<ReturnType<GithubStatusDeps['readApp']>>, deliveries: DeliveryRecord[] = [], apiUrl?: string): GithubStatusDeps {
  return {stage: 'dev', ...(apiUrl ? {apiUrl} : {}), readApp: async () => app, recentDeliveries: async (limit) => deliveries.slice(0, limit)}
}

describe('operations/github-status', function () {
  it('builds the webhook URL from the API URL, with or without its trailing slash', function () {
    expect(webhookUrl('https://x.execute-api.eu-west-1.amazonaws.com/dev/')).to.equal('https://x.execute-api.eu-west-1.amazonaws.com/dev/github/webhook')
    expect(webhookUrl('http://127.0.0.1:8787')).to.equal('http://127.0.0.1:8787/github/webhook')
  })

  it('the doctor check warns on the first thing missing, and passes once webhooks can arrive', async function () {
    const app = {set: true, appId: '1', webhookSecretSet: true}
    expect(githubCheck(await githubStatus(deps({set: false, webhookSecretSet: false})))).to.include({status: 'WARN', code: 'GITHUB_APP_NOT_SET'})
    expect(githubCheck(await githubStatus(deps({...app, webhookSecretSet: false}, [], 'https://api/dev')))).to.include({status: 'WARN', code: 'GITHUB_WEBHOOK_SECRET_NOT_SET'})
    expect(githubCheck(await githubStatus(deps(app)))).to.include({status: 'WARN', code: 'NOT_DEPLOYED'})
    expect(githubCheck(await githubStatus(deps(app, [delivery('a', 'FAILED', 'GITHUB_FORBIDDEN'), delivery('b', 'FAILED')], 'https://api/dev')))).to.include({status: 'WARN', code: 'GITHUB_DELIVERIES_FAILING'})
    const ok = githubCheck(await githubStatus(deps(app, [delivery('a', 'DONE'), delivery('b', 'FAILED')], 'https://api/dev')))
    expect(ok).to.include({status: 'PASS'})
    expect(ok.message).to.contain('https://api/dev/github/webhook')
  })
})
