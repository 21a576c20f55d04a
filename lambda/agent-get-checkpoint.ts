import {apiHandler} from '../src/api/lambda.js'

/** GET /agent/sessions/{id}/checkpoint (AWS_IAM: the workspace task role) */
export const handler = apiHandler()
