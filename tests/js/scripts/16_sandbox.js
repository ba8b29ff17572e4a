// the sandbox at run time: no Node or browser I/O, no code from strings, removed globals
export const meta = {name: 'sandbox-runtime', description: 'Escape hatches are closed'}
const probe = (fn) => { try { const v = fn(); return `value: ${typeof v}` } catch (e) { return `${e.name}: ${e.message.split(':')[0]}` } }
return {
  process: probe(() => process.env),
  require: probe(() => globalThis['requ' + 'ire']('fs')),
  fetch: probe(() => globalThis.fetch),
  evalAlias: probe(() => globalThis['ev' + 'al']('1 + 1')),
  functionCtor: probe(() => (function () {}).constructor('return 1')()),
  asyncCtor: probe(() => (async function () {}).constructor('return 1')),
  generatorCtor: probe(() => (function* () {}).constructor('yield 1')),
  removed: ['WebAssembly', 'SharedArrayBuffer', 'Atomics', 'WeakRef', 'FinalizationRegistry', 'queueMicrotask',
            'performance'].map(name => typeof globalThis[name]),
  functionsStillWork: [1, 2, 3].map(x => x * 2).includes(6) && (x => x) instanceof Function,
  jsonFrozen: Object.isFrozen(JSON),
}
