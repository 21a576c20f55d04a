import {notImplemented} from './_not-implemented.js'

export const handler = notImplemented('DELETE /sessions/{id}')
