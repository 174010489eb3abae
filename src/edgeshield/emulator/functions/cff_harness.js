// Runs CloudFront Functions for edgeshield's local edge. One long-lived Node process; one
// JSON message per line on stdin, one answer per line on stdout.
//   {"id":1,"op":"load","name":"f","code":"..."}          -> {"id":1,"ok":true}
//   {"id":2,"op":"run","name":"f","event":{...}}          -> {"id":2,"ok":true,"result":...,"logs":[...],"ms":0.1}
// Each function lives in its own vm context with what the cloudfront-js-2.0 runtime offers and
// nothing more: no require (except 'crypto' hashes/HMACs), no process, no timers, no network,
// no file system, no eval or new Function (code generation from strings is off). A run that
// passes the time budget is stopped (compute utilization over 100).
'use strict';
const vm = require('vm');
const readline = require('readline');
const nodeCrypto = require('crypto');

const MAX_LOG_BYTES = 10 * 1024; // CloudFront truncates function logs at 10 KB
const functions = new Map();
const RUN = `(function () {
  var r = handler(JSON.parse(__event));
  if (r && typeof r.then === 'function') {
    r.then(function (v) { __result = JSON.stringify(v); }, function (e) { __error = e; });
  } else {
    __result = JSON.stringify(r);
  }
})();`;

function sandboxCrypto() {
  return Object.freeze({
    createHash: (alg) => nodeCrypto.createHash(alg),
    createHmac: (alg, key) => nodeCrypto.createHmac(alg, key),
  });
}

function makeContext(logs) {
  const console = Object.freeze({
    log: (...args) => {
      logs.push(args.map((a) => (typeof a === 'string' ? a : safeJson(a))).join(' '));
    },
  });
  const require = (name) => {
    if (name === 'crypto') return sandboxCrypto();
    throw new Error(`Cannot find module '${String(name)}'`);
  };
  const sandbox = { console, require, Buffer };
  return vm.createContext(sandbox, {
    codeGeneration: { strings: false, wasm: false },
    microtaskMode: 'afterEvaluate',
  });
}

function safeJson(value) {
  try {
    return JSON.stringify(value);
  } catch (e) {
    return String(value);
  }
}

function load(msg) {
  const logs = [];
  const context = makeContext(logs);
  const script = new vm.Script(msg.code, { filename: `${msg.name}.js` });
  script.runInContext(context, { timeout: msg.timeout_ms || 50 });
  if (typeof context.handler !== 'function') {
    throw new Error('the function code does not define a handler(event) function');
  }
  functions.set(msg.name, { context, logs });
  return {};
}

function run(msg) {
  const fn = functions.get(msg.name);
  if (!fn) throw new Error(`no function ${msg.name} loaded`);
  fn.logs.length = 0;
  fn.context.__event = msg.event;
  fn.context.__result = undefined;
  fn.context.__error = undefined;
  const started = process.hrtime.bigint();
  let result;
  let error = null;
  try {
    // JSON round trip: the function gets a plain copy and cannot hand back anything else.
    // An async handler's promise settles in the same run: microtasks drain after evaluation.
    vm.runInContext(RUN, fn.context, { timeout: msg.timeout_ms || 50 });
    if (fn.context.__error !== undefined) throw fn.context.__error;
    result = fn.context.__result;
  } catch (e) {
    const text = e && e.message ? String(e.message) : String(e);
    error = { type: e && e.code === 'ERR_SCRIPT_EXECUTION_TIMEOUT' ? 'timeout' : 'error', message: text };
  }
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  const logs = [];
  let used = 0;
  for (const line of fn.logs) {
    used += Buffer.byteLength(line);
    if (used > MAX_LOG_BYTES) { logs.push('[log truncated at 10 KB]'); break; }
    logs.push(line);
  }
  if (error) return { error, logs, ms };
  return { result: result === undefined ? null : JSON.parse(result), logs, ms };
}

const rl = readline.createInterface({ input: process.stdin, terminal: false });
rl.on('line', (line) => {
  let msg;
  try {
    msg = JSON.parse(line);
  } catch (e) {
    process.stdout.write(JSON.stringify({ id: null, ok: false, error: { type: 'protocol', message: 'bad JSON' } }) + '\n');
    return;
  }
  let answer;
  try {
    if (msg.op === 'load') answer = { ok: true, ...load(msg) };
    else if (msg.op === 'run') {
      msg.event = JSON.stringify(msg.event);
      answer = { ok: true, ...run(msg) };
    } else answer = { ok: false, error: { type: 'protocol', message: `unknown op ${msg.op}` } };
  } catch (e) {
    answer = { ok: false, error: { type: 'load', message: e && e.message ? String(e.message) : String(e) } };
  }
  answer.id = msg.id;
  process.stdout.write(JSON.stringify(answer) + '\n');
});
