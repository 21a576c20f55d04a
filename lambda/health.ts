import {notImplemented} from './_not-implemented.js'

export const handler = notImplemented('GET /health')
