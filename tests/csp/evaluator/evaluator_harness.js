// Runs Google's CSP Evaluator (npm csp_evaluator) on JSON-lines cases from stdin and prints
// one JSON line per case: its findings as [type, severity, directive, value, description], or
// {"threw": message} when the package throws. Used by test_differential.py and
// benchmarks/csp_evaluator.py. First argument: the folder holding node_modules/csp_evaluator.
// A case is {"csp": "...", "version": 1|2|3}; checks as edgeshield.csp.evaluator.evaluate runs
// them: the strict-CSP and reporting checks on the policy as written, the default checks on the
// policy the browser enforces.
"use strict";
const path = require("node:path");
const readline = require("node:readline");

const base = path.resolve(process.argv[2], "node_modules/csp_evaluator/dist");
const { CspEvaluator, DEFAULT_CHECKS, STRICTCSP_CHECKS } = require(path.join(base, "evaluator.js"));
const { CspParser } = require(path.join(base, "parser.js"));
const { checkHasConfiguredReporting } = require(path.join(base, "checks/security_checks.js"));
const AS_WRITTEN = [...STRICTCSP_CHECKS, checkHasConfiguredReporting];
const bench = process.argv.includes("--bench");

function run(c) {
  const parsed = new CspParser(c.csp).csp;
  return new CspEvaluator(parsed, c.version).evaluate(AS_WRITTEN, DEFAULT_CHECKS);
}

// --bench: the first line of stdin is a JSON array of cases (which must not throw); then each
// further line asks for one timed pass over them, answered with {"seconds", "findings"}. The
// caller interleaves these passes with its own, so both sides see the same machine load.
if (bench) {
  let cases = null;
  readline.createInterface({ input: process.stdin }).on("line", (line) => {
    if (cases === null) {
      cases = JSON.parse(line);
      console.log(JSON.stringify({ ready: cases.length }));
      return;
    }
    let count = 0;
    const start = process.hrtime.bigint();
    for (const c of cases) count += run(c).length;
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    console.log(JSON.stringify({ seconds, findings: count }));
  });
} else {
  const cases = [];
  readline.createInterface({ input: process.stdin })
    .on("line", (line) => cases.push(JSON.parse(line)))
    .on("close", () => {
      const out = [];
      for (const c of cases) {
        try {
          out.push(JSON.stringify(run(c).map((f) => [f.type, f.severity, f.directive, f.value ?? null, f.description])));
        } catch (e) {
          out.push(JSON.stringify({ threw: String(e && e.message) }));
        }
      }
      process.stdout.write(out.join("\n") + "\n");
    });
}
