// Runs the real MDN HTTP Observatory analyzers on JSON-lines cases from stdin and prints one
// JSON line of results per case. Used by test_differential.py; needs an npm install of
// @mdn/mdn-http-observatory (its tests import from its src/ tree).
import { createRequire } from "node:module";
import path from "node:path";
import { pathToFileURL } from "node:url";
import readline from "node:readline";

// Resolve everything from the Observatory install named by the first argument.
const base = path.resolve(process.argv[2]);
const require = createRequire(path.join(base, "package.json"));
const obs = (p) => import(pathToFileURL(path.join(base, "node_modules/@mdn/mdn-http-observatory/src", p)).href);
const pkg = async (name) => {
  const mod = await import(pathToFileURL(require.resolve(name)).href);
  return { ...mod.default, ...mod };
};
const { parseCsp } = await obs("analyzer/cspParser.js");
const { contentSecurityPolicyTest } = await obs("analyzer/tests/csp.js");
const { cookiesTest } = await obs("analyzer/tests/cookies.js");
const { subresourceIntegrityTest } = await obs("analyzer/tests/subresource-integrity.js");
const { referrerPolicyTest } = await obs("analyzer/tests/referrer-policy.js");
const { xFrameOptionsTest } = await obs("analyzer/tests/x-frame-options.js");
const { xContentTypeOptionsTest } = await obs("analyzer/tests/x-content-type-options.js");
const { strictTransportSecurityTest } = await obs("analyzer/tests/strict-transport-security.js");
const { crossOriginResourceSharingTest } = await obs("analyzer/tests/cors.js");
const { AxiosHeaders } = await pkg("axios");
const { Cookie, CookieJar } = await pkg("tough-cookie");

const TESTS = [
  ["content-security-policy", contentSecurityPolicyTest],
  ["cookies", cookiesTest],
  ["subresource-integrity", subresourceIntegrityTest],
  ["referrer-policy", referrerPolicyTest],
  ["x-frame-options", xFrameOptionsTest],
  ["x-content-type-options", xContentTypeOptionsTest],
  ["strict-transport-security", strictTransportSecurityTest],
  ["cross-origin-resource-sharing", crossOriginResourceSharingTest],
];

for await (const line of readline.createInterface({ input: process.stdin })) {
  const c = JSON.parse(line);
  let parsed;
  try {
    parsed = {};
    for (const [k, v] of parseCsp(c.csp)) parsed[k] = [...v].sort();
  } catch {
    parsed = "INVALID";
  }
  const headers = new AxiosHeaders();
  for (const [k, v] of Object.entries(c.headers)) headers.set(k, v);
  if (c.csp.length) headers.set("content-security-policy", c.csp);
  const url = new URL(c.url);
  const jar = new CookieJar();
  for (const s of c.headers["set-cookie"] ?? []) {
    try {
      const ck = Cookie.parse(s);
      if (ck) jar.setCookieSync(ck, url.href, { http: true });
    } catch {}
  }
  const resp = { headers, httpEquiv: new Map([["content-security-policy", c.meta]]), status: 200, verified: true };
  const cors = { headers, status: 200, verified: true, request: { headers: new AxiosHeaders({ origin: c.origin }) } };
  const req = {
    hostname: url.hostname, site: url.hostname,
    responses: { auto: resp, https: resp, http: resp, cors, httpRedirects: [], httpsRedirects: [] },
    session: { url, jar }, resources: { path: c.body },
  };
  const out = { parsed };
  for (const [name, fn] of TESTS) {
    try {
      const o = fn(req);
      out[name] = [o.result, !!o.pass];
    } catch (e) {
      // Counted by the test: the Observatory crashing on an input is a finding, not a skip.
      out[name] = ["THREW", null, String(e?.message ?? e).slice(0, 200)];
    }
  }
  console.log(JSON.stringify(out));
}
