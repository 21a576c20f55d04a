import {apiHandler} from '../src/api/lambda.js'

/** POST /agent/warm/{id}/register (AWS_IAM: the workspace task role) */
export const handler = apiHandler()
