/**
 * A fake page for tests in Node: a document whose visibility can change and a window that can
 * go offline and online, counting the listeners the document has. `inPage` makes a client while
 * the page is the global one (the client reads it when made), so two clients may live in two
 * pages at once, one shown, one hidden.
 */

/** A page, shown or hidden. */
export function fakePage(visible: boolean) {
  const document = Object.assign(new EventTarget(), {
    visibilityState: visible ? 'visible' : 'hidden',
  })
  let listeners = 0
  const add = document.addEventListener.bind(document)
  const remove = document.removeEventListener.bind(document)
  document.addEventListener = (...args: Parameters<typeof add>) => {
    listeners++
    add(...args)
  }
  document.removeEventListener = (...args: Parameters<typeof remove>) => {
    listeners--
    remove(...args)
  }
  const window = new EventTarget()
  return {
    document,
    window,
    /** Shows or hides the page, and tells it, as a browser does. */
    setVisible(shown: boolean) {
      document.visibilityState = shown ? 'visible' : 'hidden'
      document.dispatchEvent(new Event('visibilitychange'))
    },
    /** The network comes back. */
    online() {
      window.dispatchEvent(new Event('online'))
    },
    listeners: () => listeners,
  }
}

export type FakePage = ReturnType<typeof fakePage>

/** Runs `make` (a client's creation) while `page` is the global page. */
export function inPage<T>(page: FakePage, make: () => T): T {
  const globals = globalThis as Record<string, unknown>
  globals.document = page.document
  globals.window = page.window
  try {
    return make()
  } finally {
    delete globals.document
    delete globals.window
  }
}
