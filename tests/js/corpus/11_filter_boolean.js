// `.filter(Boolean)` after a fan-out, and its footgun: wrapping each agent in `.then(r => ({file, r}))`
// turns a failed agent's null into a truthy object, so the filter keeps it and the call's own accounting
// counts the slot as a success. The run's accounting still counts the failed agent; the honest count
// looks at the wrapped value.
export const meta = {
  name: 'honest-accounting',
  description: 'Launched vs returned, with and without wrapping',
}

const FILES = ['a.py', 'b.py', 'c.py', 'd.py']
const plain = await parallel(FILES.map(f => () => agent(`Lint ${f}`, {label: `lint ${f}`})))
const kept = plain.filter(Boolean)

const wrapped = await parallel(FILES.map(f => () => agent(`Lint ${f} again`, {label: `relint ${f}`}).then(r => ({file: f, r}))))
const naive = wrapped.filter(Boolean)
const honest = wrapped.filter(w => w?.r != null)

log(`plain: launched ${plain.launched}, returned ${kept.length}`)
log(`wrapped: launched ${wrapped.launched}, kept ${naive.length}, really returned ${honest.length}`)
return {
  plain: {kept: kept.length, failed: plain.failed, reasons: plain.reasons},
  wrapped: {naive: naive.length, honest: honest.length, failed: wrapped.failed, succeeded: wrapped.succeeded,
            missing: wrapped.filter(w => w.r == null).map(w => w.file)},
}
