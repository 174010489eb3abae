// Times the MDN HTTP Observatory's own analyzer (its npm package) on header sets, for
// benchmarks/grade.py, which starts this script once and asks it for interleaved rounds.
//
//   node benchmarks/observatory_grade.mjs OBSERVATORY_DIR SETS.json
//
// SETS.json is a list of {"headers": {name: value | [values]}, "url": "..."}. Each stdin line is a
// number of passes; for each, every set goes through what the Observatory's scan does after
// fetching: fold the header lines as Node's HTTP client does, fill a tough-cookie jar from the
// Set-Cookie lines, run its header tests, then score and grade. One JSON line per round answers
// {"sets_per_s": ...} per second of CPU time. Header tests only: the subresource-integrity test needs an HTML page,
// which header-only grading does not have (edgeshield assumes it instead).
import { createRequire } from "node:module";
import { readFileSync } from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import readline from "node:readline";

const base = path.resolve(process.argv[2]);
const require = createRequire(path.join(base, "package.json"));
const obs = (p) =>
  import(pathToFileURL(path.join(base, "node_modules/@mdn/mdn-http-observatory/src", p)).href);
const pkg = async (name) => {
  const mod = await import(pathToFileURL(require.resolve(name)).href);
  return { ...mod.default, ...mod };
};
const { ALL_TESTS } = await obs("constants.js");
const { subresourceIntegrityTest } = await obs("analyzer/tests/subresource-integrity.js");
const { getGradeForScore, getScoreModifier } = await obs("grader/grader.js");
const { MINIMUM_SCORE_FOR_EXTRA_CREDIT } = await obs("grader/charts.js");
const { AxiosHeaders } = await pkg("axios");
const { Cookie, CookieJar } = await pkg("tough-cookie");

const TESTS = ALL_TESTS.filter((t) => t !== subresourceIntegrityTest);
const ORIGIN = "https://http-observatory.security.mozilla.org";
const sets = JSON.parse(readFileSync(process.argv[3], "utf8"));

function grade(set) {
  const headers = new AxiosHeaders();
  const cookies = [];
  for (const [name, value] of Object.entries(set.headers)) {
    if (name.toLowerCase() === "set-cookie") cookies.push(...[].concat(value));
    else headers.set(name, Array.isArray(value) ? value.join(", ") : value);
  }
  if (cookies.length) headers.set("set-cookie", cookies);
  const url = new URL(set.url);
  const jar = new CookieJar();
  for (const line of cookies) {
    try {
      const c = Cookie.parse(line);
      if (c) jar.setCookieSync(c, url.href, { http: true });
    } catch {}
  }
  const resp = { headers, httpEquiv: new Map(), status: 200, verified: true };
  const cors = { headers, status: 200, verified: true, request: { headers: new AxiosHeaders({ origin: ORIGIN }) } };
  // Header-only: http:// is assumed to redirect to https:// on the same host, as edgeshield does.
  const route = [{ url: new URL(`http://${url.hostname}/`), status: 301 }, { url, status: 200 }];
  const req = {
    hostname: url.hostname,
    site: url.hostname,
    responses: { auto: resp, https: resp, http: resp, cors, httpRedirects: route, httpsRedirects: [] },
    session: { url, jar },
    resources: { path: "" },
  };
  let withBonus = 100;
  let uncurved = 100;
  const tests = {};
  for (const test of TESTS) {
    let out;
    try {
      out = test(req);
    } catch {
      continue; // the Observatory throws on some malformed input; edgeshield does not
    }
    const modifier = getScoreModifier(out.result);
    withBonus += modifier;
    if (modifier < 0) uncurved += modifier;
    tests[out.constructor.name] = out;
  }
  return { ...getGradeForScore(uncurved >= MINIMUM_SCORE_FOR_EXTRA_CREDIT ? withBonus : uncurved), tests };
}

for await (const line of readline.createInterface({ input: process.stdin })) {
  const passes = Number(line);
  // CPU time (user + system, all of Node's threads), as benchmarks/grade.py measures its own.
  const start = process.cpuUsage();
  let sink = 0;
  for (let p = 0; p < passes; p++) for (const s of sets) sink += grade(s).score;
  const used = process.cpuUsage(start);
  const seconds = (used.user + used.system) / 1e6;
  console.log(JSON.stringify({ sets_per_s: (passes * sets.length) / seconds, sink }));
}
