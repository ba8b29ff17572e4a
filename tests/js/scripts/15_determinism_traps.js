// determinism traps at run time: computed or aliased reads of the clock and randomness still throw.
// Mentions are fine: "Date.now()" in a string, and in this comment: Math.random(), new Date()
export const meta = {name: 'determinism-traps', description: 'Clock and randomness throw at run time'}
const attempts = {
  dateNow: () => Date['n' + 'ow'](),
  viaConstructor: () => new (Object.getPrototypeOf(new Date(0)).constructor)(),
  viaPrototype: () => Date.prototype.constructor['now'](),
  random: () => Math['rand' + 'om'](),
  aliasDate: () => { const D = globalThis['Da' + 'te']; return new D() },
  callAsFunction: () => globalThis['Date'](),
}
const caught = {}
for (const [name, attempt] of Object.entries(attempts)) {
  try { attempt(); caught[name] = 'no error' } catch (e) { caught[name] = e.message.split(';')[0] }
}
const fixed = new Date(Date.UTC(2026, 0, 2)).toISOString()
const overwritten = (() => { try { Math.random = () => 4; return 'assigned' } catch (e) { return 'refused' } })()
return {caught, fixed, mention: 'Date.now()', overwritten, stillThrows: (() => { try { Math['ran' + 'dom'](); return false } catch (_) { return true } })()}
