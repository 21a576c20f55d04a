import {expect} from 'chai'

import {createChangeSignals, promptTopic, sessionTopic, signallingStores} from '../../../../src/core/services/change-signals.js'
import type {PromptStore, SessionStore} from '../../../../src/core/ports.js'

const settled = async (promise: Promise<void>) => Promise.race([promise.then(() => 'woken'), new Promise((resolve) => setTimeout(() => resolve('waiting'), 20))])

describe('change signals', () => {
  it('wakes the waiters of a topic, once, and no one else', async () => {
    const signals = createChangeSignals()
    const onSession = signals.next([sessionTopic('s-1'), promptTopic('p-1')])
    const onOther = signals.next([sessionTopic('s-2')])
    signals.notify(promptTopic('p-1'))
    expect(await settled(onSession.changed)).to.equal('woken')
    expect(await settled(onOther.changed)).to.equal('waiting')
    // Woken waiters are gone: a second notify finds only the still-waiting one.
    signals.notify(promptTopic('p-1'))
    signals.notify(sessionTopic('s-2'))
    expect(await settled(onOther.changed)).to.equal('woken')
  })

  it('forgets a cancelled wait, so that nothing piles up behind long polls that timed out', async () => {
    const signals = createChangeSignals()
    const wait = signals.next([sessionTopic('s-1')])
    wait.cancel()
    signals.notify(sessionTopic('s-1'))
    expect(await settled(wait.changed)).to.equal('waiting')
  })

  it('tells the writes of the stores after they landed, and passes every other call through with its this', async () => {
    const signals = createChangeSignals()
    const written: string[] = []
    class Prompts {
      readonly name = 'prompts'
      async create(record: {sessionId: string}) {
        written.push(`create ${record.sessionId}`)
      }
      async update(sessionId: string, promptId: string) {
        written.push(`update ${sessionId} ${promptId}`)
        return {}
      }
      async appendEvents(promptId: string) {
        written.push(`events ${promptId}`)
        return []
      }
      async lastSeq() {
        return this.name.length
      }
    }
    class Sessions {
      async update(id: string) {
        written.push(`session ${id}`)
        return {}
      }
    }
    const stores = signallingStores({prompts: new Prompts() as unknown as PromptStore, sessions: new Sessions() as unknown as SessionStore}, signals)
    const claim = signals.next([sessionTopic('s-1')])
    const follow = signals.next([promptTopic('p-1')])
    await stores.prompts.appendEvents('p-1', [])
    expect([await settled(follow.changed), await settled(claim.changed)]).to.deep.equal(['woken', 'waiting'])
    await stores.prompts.create({sessionId: 's-1'} as never)
    expect(await settled(claim.changed)).to.equal('woken')
    const requeued = signals.next([sessionTopic('s-1')])
    await stores.prompts.update('s-1', 'p-2', 0, {})
    expect(await settled(requeued.changed)).to.equal('woken')
    const ended = signals.next([sessionTopic('s-3')])
    await stores.sessions.update('s-3', 0, {})
    expect(await settled(ended.changed)).to.equal('woken')
    expect(await stores.prompts.lastSeq('s-1')).to.equal(7)
    expect(written).to.deep.equal(['events p-1', 'create s-1', 'update s-1 p-2', 'session s-3'])
  })
})
