import {apiHandler} from '../src/api/lambda.js'

/** POST /sessions/{id}/resume (AWS_IAM) */
export const handler = apiHandler()
