import {apiHandler} from '../src/api/lambda.js'

/** GET /admin/sessions */
export const handler = apiHandler()
