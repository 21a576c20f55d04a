import {apiHandler} from '../src/api/lambda.js'

/** POST /notifications/test */
export const handler = apiHandler()
