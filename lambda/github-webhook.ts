import {apiHandler} from '../src/api/lambda.js'

/** POST /github/webhook: GitHub App webhooks, verified by X-Hub-Signature-256 (no IAM auth) */
export const handler = apiHandler()
