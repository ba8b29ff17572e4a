// Workcrew's guest-side prelude for Claude-dialect workflows, evaluated in QuickJS before the script.
//
// Only JSON texts cross to Python, one message per line (JSON.stringify never writes a raw newline, and
// escapes NUL, control characters and lone surrogates, so any string crosses intact). The outbox is
// joined into one flat string: QuickJS represents a long concatenation as a rope, which the binding
// cannot convert (join always builds a flat string). QuickJS interrupts synchronous code only while no Python
// callable is registered, so the guest never calls the host directly: it posts messages to an outbox
// that the host drains after every entry (phase and log lines, async calls, fan-out slot results, the
// end of the body). An async call returns a promise that Python settles through
// __wc_settle(id, ok, json) when its asyncio task ends. parallel() and pipeline() keep the script's
// functions and values here: Python runs the fan-out with the engine's own ScriptContext.parallel and
// .pipeline (same cap, accounting and log lines) and asks this side to run one thunk or stage at a
// time with __wc_run(call, index, stage, previousIsNull). Each entry also carries the budget figures,
// so budget.spent() and budget.remaining() answer synchronously with what Python knows.
"use strict";
(() => {
  const g = globalThis;
  // messages as JSON texts, so JSON a call already made (its arguments) is embedded, not encoded again
  const outbox = [];
  const stringify = JSON.stringify;
  const arrayJoin = Array.prototype.join;
  // index assignment, not push(): a script that replaces Array.prototype.push must not see the messages
  const postText = (text) => { outbox[outbox.length] = text; };
  const post = (message) => postText(stringify(message));
  let spentNow = 0;
  let remainingNow = null;
  const setBudget = (spent, remaining) => {
    spentNow = spent;
    remainingNow = remaining < 0 ? null : remaining;
  };

  // captured before the script runs, so nothing it does to the globals reaches the bridge
  const parse = JSON.parse;
  const defineProperty = Object.defineProperty;
  const freeze = Object.freeze;
  const isArray = Array.isArray;
  const arrayFrom = Array.from;
  const PromiseCtor = Promise;
  const resolved = (v) => PromiseCtor.resolve(v);
  const rejected = (e) => PromiseCtor.reject(e);
  const MapCtor = Map;
  const SetCtor = Set;
  const construct = Reflect.construct;
  const getPrototypeOf = Object.getPrototypeOf;
  const ErrorTypes = { TypeError, RangeError, ReferenceError, SyntaxError, EvalError, Error };

  const pending = new MapCtor(); // call id -> {resolve, reject, promise, slots}
  const callOf = new MapCtor(); // a pending call's promise -> its id
  const fanouts = new MapCtor(); // fan-out id -> {fns | stages, items, values}
  const timers = new SetCtor();
  let nextCall = 0;
  let nextFanout = 0;

  function typeName(v) {
    if (v === null) return "null";
    if (isArray(v)) return "an array";
    if (v && typeof v.then === "function") return "a promise (pass a function that returns it)";
    return typeof v === "object" ? "an object" : `a ${typeof v}`;
  }

  // an error from Python: the same message; Workcrew's own errors keep their name for the way back
  function toError(e) {
    const Ctor = ErrorTypes[e.name] || Error;
    const err = new Ctor(e.message);
    if (Ctor === Error && e.name !== "Error") {
      defineProperty(err, "name", { value: e.name, writable: true, configurable: true });
    }
    if (e.wc) defineProperty(err, "__wc_kind", { value: e.name });
    return err;
  }

  function describe(e) {
    if (e !== null && typeof e === "object" && "message" in e) {
      let stack = "";
      try { stack = String(e.stack || ""); } catch (_) { /* a throwing getter */ }
      return { name: String(e.name || "Error"), message: String(e.message), stack, wc: e.__wc_kind || null };
    }
    let text;
    try { text = typeof e === "string" ? e : stringify(e); } catch (_) { text = String(e); }
    return { name: null, message: String(text), stack: "", wc: null };
  }

  function call(name, payload) {
    let json;
    try {
      json = stringify(payload);
    } catch (e) {
      return rejected(new TypeError(`${name}(): arguments must be JSON data (${e.message})`));
    }
    const id = ++nextCall;
    const entry = { resolve: null, reject: null, promise: null, slots: null };
    entry.promise = new PromiseCtor((resolve, reject) => {
      entry.resolve = resolve;
      entry.reject = reject;
    });
    pending.set(id, entry);
    callOf.set(entry.promise, id);
    postText(`["call",${id},"${name}",${json}]`);
    return entry.promise;
  }

  // an isolated agent's answer -> its patch, so report({fix: r}) and check(cmd, {isolation: r}) can send it
  const patchedObjects = new WeakMap();
  const patchedTexts = new MapCtor();
  const withPatch = (v) => {
    if (v !== null && typeof v === "object") return patchedObjects.has(v) ? patchedObjects.get(v) : v;
    return typeof v === "string" && patchedTexts.has(v) ? patchedTexts.get(v) : v;
  };

  function settle(id, ok, json, spent, remaining, patchJson) {
    setBudget(spent, remaining);
    const entry = pending.get(id);
    if (entry === undefined) return;
    pending.delete(id);
    callOf.delete(entry.promise);
    const value = json === "" ? undefined : parse(json);
    if (ok && patchJson) {
      const patch = freeze(parse(patchJson));
      if (value !== null && typeof value === "object") {
        patchedObjects.set(value, patch);
        if (!("patch" in value)) defineProperty(value, "patch", { value: patch, enumerable: false });
      } else if (typeof value === "string") {
        patchedTexts.set(value, patch);
      }
    }
    const error = ok ? null : toError(value);
    if (ok) entry.resolve(value);
    else entry.reject(error);
    // fan-out slots bound to this very promise (see runSlot) keep its value; the host ends them itself
    const slots = entry.slots;
    if (slots === null || !ok) return;
    for (let i = 0; i < slots.length; i++) {
      const slot = slots[i]; // no destructuring: the script may have replaced the array iterator
      const fanoutEntry = fanouts.get(slot[0]);
      if (fanoutEntry !== undefined) fanoutEntry.values[slot[1]] = value;
    }
  }

  // -- fan-out: Python drives the schedule, the functions and values stay here -----------------------

  function finishFanout(id, entry, info) {
    fanouts.delete(id);
    const nulls = new SetCtor(info.nulls);
    const out = [];
    for (let i = 0; i < entry.count; i++) out.push(nulls.has(i) ? null : entry.values[i]);
    defineProperty(out, "launched", { value: info.launched });
    defineProperty(out, "succeeded", { value: info.succeeded });
    defineProperty(out, "failed", { value: info.failed });
    defineProperty(out, "reasons", { value: freeze(info.reasons) });
    return out;
  }

  function fanout(kind, entry, extra) {
    const id = ++nextFanout;
    fanouts.set(id, entry);
    return call(kind, { call: id, n: entry.count, ...extra }).then(
      (info) => finishFanout(id, entry, info),
      (err) => { fanouts.delete(id); throw err; },
    );
  }

  function runSlot(id, index, stage, previousIsNull, spent, remaining) {
    setBudget(spent, remaining);
    const entry = fanouts.get(id);
    let promise;
    try {
      const value = entry.stages === null
        ? entry.fns[index]()
        : entry.stages[stage](previousIsNull ? null : entry.values[index], entry.items[index], index);
      // the common shape, () => agent(...): the slot is bound to that call and ends when it settles, with
      // its value; the host knows both then, so no promise job or message is needed for it
      const callId = callOf.get(value);
      if (callId !== undefined) {
        const call = pending.get(callId);
        if (call.slots === null) call.slots = [];
        call.slots[call.slots.length] = [id, index];
        postText(`["bind",${callId},${id},${index},${stage}]`);
        return;
      }
      promise = resolved(value);
    } catch (e) {
      promise = rejected(e);
    }
    promise.then(
      (value) => {
        entry.values[index] = value;
        post(["slot", id, index, stage, true, value == null]);
      },
      (e) => {
        post(["slot", id, index, stage, false, describe(e)]);
      },
    );
  }

  function listOf(what, value) {
    if (isArray(value)) return value.slice();
    if (value != null && typeof value[Symbol.iterator] === "function" && typeof value !== "string") {
      return arrayFrom(value);
    }
    throw new TypeError(`${what}() takes an array, not ${typeName(value)}`);
  }

  // -- the primitives ---------------------------------------------------------------------------------

  function agent(prompt, opts) {
    if (opts != null && (typeof opts !== "object" || isArray(opts))) {
      return rejected(new TypeError(`agent(prompt, opts): opts must be an object, not ${typeName(opts)}`));
    }
    return call("agent", { prompt: prompt === undefined ? null : prompt, opts: opts == null ? {} : opts });
  }

  function parallel(thunks) {
    let fns;
    try {
      fns = listOf("parallel", thunks);
    } catch (e) {
      return rejected(e);
    }
    for (let i = 0; i < fns.length; i++) {
      if (typeof fns[i] !== "function") {
        return rejected(new TypeError(
          `parallel() takes functions that return promises (thunks), e.g. items.map(x => () => agent(...)); ` +
          `item ${i} is ${typeName(fns[i])}`));
      }
    }
    return fanout("parallel", { fns, stages: null, items: null, values: [], count: fns.length }, {});
  }

  function pipeline(items, ...stages) {
    let list;
    try {
      list = listOf("pipeline", items);
    } catch (e) {
      return rejected(e);
    }
    for (let k = 0; k < stages.length; k++) {
      if (typeof stages[k] !== "function") {
        return rejected(new TypeError(`pipeline() stages must be functions; stage ${k + 1} is ${typeName(stages[k])}`));
      }
    }
    return fanout("pipeline", { fns: null, stages, items: list, values: list.slice(), count: list.length },
      { stages: stages.length });
  }

  // the second argument (Claude Code scripts pass e.g. {detail}) is recorded with the phase
  function phase(title, opts) {
    let options = null;
    if (opts !== undefined && opts !== null) {
      try {
        options = parse(stringify(opts));
      } catch (_) {
        options = String(opts);
      }
    }
    post(["phase", String(title), options === undefined ? null : options]);
  }

  function log(message) { post(["log", String(message)]); }

  function workflow(nameOrRef, args) {
    let target = nameOrRef;
    if (nameOrRef !== null && typeof nameOrRef === "object" && typeof nameOrRef.scriptPath === "string") {
      target = nameOrRef.scriptPath;
    }
    if (typeof target !== "string" || target === "") {
      return rejected(new TypeError("workflow() takes a workflow name or {scriptPath: '...'}"));
    }
    return call("workflow", { target, args: args === undefined ? null : args });
  }

  // async here (Python returns the id at once): nothing crosses to Python synchronously
  function report(finding) {
    if (finding !== null && typeof finding === "object" && !isArray(finding) && "fix" in finding) {
      finding = { ...finding, fix: withPatch(finding.fix) };
    }
    return call("report", finding === undefined ? null : finding);
  }

  function check(command, opts) {
    if (opts !== null && typeof opts === "object" && "isolation" in opts) {
      opts = { ...opts, isolation: withPatch(opts.isolation) };
    }
    return call("check", { command, opts: opts == null ? {} : opts });
  }

  // the pattern library (workflows/library.py): the same helpers as the Python dialect's, Promises here
  const optionsOf = (name, opts) => {
    if (opts != null && (typeof opts !== "object" || isArray(opts))) {
      throw new TypeError(`${name}(): the options must be an object, not ${typeName(opts)}`);
    }
    return opts == null ? {} : opts;
  };
  const withOptions = (name, payload, opts) => {
    try {
      return call(name, { ...payload, opts: optionsOf(name, opts) });
    } catch (e) {
      return rejected(e);
    }
  };
  function scout(given, prompt, opts) {
    return withOptions("scout", { given: given === undefined ? null : given, prompt }, opts);
  }
  function vote(claim, opts) {
    return withOptions("vote", { claim }, opts);
  }
  function finding(candidate, opts) {
    return withOptions("finding", { candidate }, opts);
  }
  function verdicts(findings, opts) {
    return withOptions("verdicts", { findings }, opts);
  }
  function fixLoop(task, command, opts) {
    return withOptions("fixLoop", { task, command }, opts);
  }

  function ask(question, choices) {
    return call("ask", { question: String(question), choices: choices == null ? null : choices });
  }

  function setTimeout(fn, ms, ...rest) {
    if (typeof fn !== "function") throw new TypeError("setTimeout() takes a function");
    const id = nextCall + 1; // the id call() is about to use
    timers.add(id);
    call("sleep", { ms: Number(ms) || 0 }).then(() => {
      if (timers.delete(id)) fn(...rest);
    }).catch((e) => post(["fail", describe(e)]));
    return id;
  }

  function clearTimeout(id) {
    if (timers.delete(id)) {
      const entry = pending.get(id);
      if (entry !== undefined) {
        pending.delete(id);
        callOf.delete(entry.promise);
      }
      post(["cancel", id]);
    }
  }

  function format(value) {
    if (typeof value === "string") return value;
    if (value instanceof Error) return String(value);
    try {
      const text = stringify(value);
      return text === undefined ? String(value) : text;
    } catch (_) {
      return String(value);
    }
  }

  const print = (...values) => post(["print", values.map(format).join(" ")]);
  const console = freeze({
    log: print, info: print, warn: print, error: print, debug: print, trace: print, dir: print, table: print,
  });

  function makeBudget(total) {
    return freeze({
      total,
      spent() { return spentNow; },
      remaining() { return remainingNow === null ? Infinity : remainingNow; },
    });
  }

  function start(body, spent, remaining) {
    setBudget(spent, remaining);
    let promise;
    try {
      promise = resolved(body());
    } catch (e) {
      promise = rejected(e);
    }
    promise.then(
      (value) => {
        let json;
        try {
          json = value === undefined ? "null" : stringify(value);
        } catch (e) {
          post(["fail", describe(new TypeError(`the workflow's result is not JSON data: ${e.message}`))]);
          return;
        }
        postText(`["done",${json === undefined ? "null" : json}]`);
      },
      (e) => post(["fail", describe(e)]),
    );
  }

  // -- the sandbox ----------------------------------------------------------------------------------

  const DETERMINISM = "workflow scripts must be deterministic so a run can be resumed; pass timestamps or seeds in args";

  function lockdown() {
    const constant = (name, value) =>
      defineProperty(g, name, { value, writable: false, enumerable: false, configurable: false });

    // clocks and randomness throw
    const RealDate = g.Date;
    const Date = function Date(...a) {
      if (new.target === undefined) throw new TypeError(`Date() reads the clock; ${DETERMINISM}`);
      if (a.length === 0) throw new TypeError(`new Date() without arguments reads the clock; ${DETERMINISM}`);
      return construct(RealDate, a, new.target);
    };
    const now = function now() { throw new TypeError(`Date.now() reads the clock; ${DETERMINISM}`); };
    defineProperty(Date, "prototype", { value: RealDate.prototype, writable: false });
    defineProperty(RealDate.prototype, "constructor", { value: Date, writable: false, configurable: false });
    defineProperty(Date, "now", { value: now });
    defineProperty(Date, "parse", { value: RealDate.parse });
    defineProperty(Date, "UTC", { value: RealDate.UTC });
    defineProperty(RealDate, "now", { value: now });
    freeze(Date);
    freeze(RealDate);
    constant("Date", Date);
    defineProperty(Math, "random", {
      value: function random() { throw new TypeError(`Math.random() is random; ${DETERMINISM}`); },
    });
    freeze(Math);

    // no code from strings
    const blocked = (what) => function () { throw new EvalError(`${what} is not available in workflow scripts`); };
    constant("eval", blocked("eval()"));
    const kinds = [
      [function () {}, "Function"],
      [async function () {}, "AsyncFunction"],
      [function* () {}, "GeneratorFunction"],
      [async function* () {}, "AsyncGeneratorFunction"],
    ];
    for (const [sample, name] of kinds) {
      const proto = getPrototypeOf(sample);
      const stub = blocked(`the ${name} constructor`);
      defineProperty(stub, "prototype", { value: proto, writable: false });
      defineProperty(proto, "constructor", { value: stub, writable: false, configurable: false });
      if (name === "Function") constant("Function", stub);
    }

    // what Claude Code's sandbox removes
    for (const name of ["WebAssembly", "SharedArrayBuffer", "Atomics", "WeakRef", "FinalizationRegistry",
      "queueMicrotask", "ShadowRealm", "performance", "crypto"]) {
      delete g[name];
    }
    // Node's and the browser's I/O: a clear error instead of "is not defined"
    for (const name of ["require", "process", "fetch", "Buffer", "module", "exports", "__dirname", "__filename",
      "XMLHttpRequest", "WebSocket"]) {
      defineProperty(g, name, {
        get() {
          throw new ReferenceError(
            `${name} is not available in workflow scripts: they have no files, shell or network; agents do the I/O`);
        },
        configurable: false,
      });
    }
    for (const value of [JSON, Reflect, PromiseCtor, PromiseCtor.prototype, Object, Array, Function.prototype]) {
      freeze(value);
    }
  }

  function init(argsJson, total, candidateJson) {
    lockdown();
    const globals = {
      agent, parallel, pipeline, phase, log, workflow, report, check, ask, setTimeout, clearTimeout, console,
      scout, vote, finding, verdicts, fixLoop, CANDIDATE: freeze(parse(candidateJson)),
      args: argsJson === "" ? undefined : parse(argsJson),
      budget: makeBudget(total === "" ? null : parse(total)),
    };
    for (const name of Object.keys(globals)) {
      defineProperty(g, name, { value: globals[name], writable: false, enumerable: false, configurable: false });
    }
  }

  // handles for the host, removed again by __wc_init
  const drain = () => {
    if (outbox.length === 0) return "";
    const text = arrayJoin.call(outbox, "\n"); // a flat string, never a rope (see the top of this file)
    outbox.length = 0;
    return text;
  };
  // each entry hands back what its synchronous part posted, saving the host a separate drain call
  g.__wc_settle = (...a) => { settle(...a); return drain(); };
  g.__wc_run = (...a) => { runSlot(...a); return drain(); };
  g.__wc_start = (...a) => { start(...a); return drain(); };
  g.__wc_drain = drain;
  g.__wc_init = (argsJson, total, candidateJson) => {
    delete g.__wc_settle;
    delete g.__wc_run;
    delete g.__wc_start;
    delete g.__wc_drain;
    delete g.__wc_init;
    init(argsJson, total, candidateJson);
  };
})();
