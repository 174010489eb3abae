// Runs Google's CSP Evaluator (npm csp_evaluator) on JSON-lines cases from stdin and prints
// one JSON line per case: its findings as [type, severity, directive, value, description], or
// {"threw": message} when the package throws. Used by test_differential.py and
// benchmarks/csp_evaluator.py. First argument: the folder holding node_modules/csp_evaluator.
// A case is {"csp": "...", "version": 1|2|3}; checks as edgeshield.csp.evaluator.evaluate runs
// them: the strict-CSP and reporting checks on the policy as written, the default checks on the
// policy the browser enforces. With --bench N it times N passes over the cases (which must not throw)
// and prints the seconds per pass and the number of findings.
"use strict";
const path = require("node:path");
const readline = require("node:readline");

const base = path.resolve(process.argv[2], "node_modules/csp_evaluator/dist");
const { CspEvaluator, DEFAULT_CHECKS, STRICTCSP_CHECKS } = require(path.join(base, "evaluator.js"));
const { CspParser } = require(path.join(base, "parser.js"));
const { checkHasConfiguredReporting } = require(path.join(base, "checks/security_checks.js"));
const AS_WRITTEN = [...STRICTCSP_CHECKS, checkHasConfiguredReporting];
const benchAt = process.argv.indexOf("--bench");
const bench = benchAt > 0;
const benchRounds = bench ? Number(process.argv[benchAt + 1] || 7) : 0;

function run(c) {
  const parsed = new CspParser(c.csp).csp;
  return new CspEvaluator(parsed, c.version).evaluate(AS_WRITTEN, DEFAULT_CHECKS);
}

const cases = [];
readline.createInterface({ input: process.stdin })
  .on("line", (line) => cases.push(JSON.parse(line)))
  .on("close", () => {
    if (bench) {
      // One timed pass over all cases per round (the same cases every round).
      const rounds = [];
      let count = 0;
      for (let i = 0; i < benchRounds; i++) {
        count = 0;
        const start = process.hrtime.bigint();
        for (const c of cases) count += run(c).length;
        rounds.push(Number(process.hrtime.bigint() - start) / 1e9);
      }
      console.log(JSON.stringify({ rounds, findings: count }));
      return;
    }
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
