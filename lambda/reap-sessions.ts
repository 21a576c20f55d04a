import {notImplemented} from './_not-implemented.js'

export const handler = notImplemented('SCHEDULE reap idle and expired sessions')
