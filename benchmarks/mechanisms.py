"""The generated CloudFront Function: time per viewer response in Node, and size per preset.

    .venv/bin/python benchmarks/mechanisms.py [--rounds N] [--calls N]

Per call: the function `bundle --target cloudfront-function` writes for the strict preset
against the same job written by hand for that one policy (the floor: delete Server and
X-Powered-By, assign the 14 headers as literals), on the same viewer-response event (9 origin
headers), interleaved in the same Node process so machine
noise hits both alike. CloudFront does not publish the time behind "compute utilization", so
this is a relative figure. Size: the generated source per preset against the 10 KB quota.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import tempfile
from pathlib import Path

from edgeshield.policy import PRESETS, CompiledPolicy, compile_policy, load_preset
from edgeshield.targets import cff, facts


def floor_source(compiled: CompiledPolicy) -> str:
    """The same job written by hand for this one policy and response: delete the removed
    headers the origin sent, assign each header as a literal. No data, no rules, no checks."""
    import json as _json

    lines = ["function handler(event) {", "  var h = event.response.headers;"]
    for name in ("server", "x-powered-by"):
        lines.append(f"  delete h[{_json.dumps(name)}];")
    for name, _key, value, _override in compiled["headers"]:
        lines.append(f"  h[{_json.dumps(name)}] = {{ value: {_json.dumps(value)} }};")
    lines += ["  return event.response;", "}"]
    return "\n".join(lines) + "\n"


RUNNER = """
const vm = require('vm');
const [generated, floor, rounds, calls] = [process.argv[2], process.argv[3], +process.argv[4], +process.argv[5]];
const fs = require('fs');
function load(path) { const c = vm.createContext({ console }); vm.runInContext(fs.readFileSync(path, 'utf8'), c); return c.handler; }
const fns = { generated: load(generated), floor: load(floor) };
const origin = { 'content-type': { value: 'text/html; charset=utf-8' }, date: { value: 'Wed, 25 Nov 2026 10:00:00 GMT' },
  server: { value: 'nginx/1.25.3' }, 'x-powered-by': { value: 'Express' }, etag: { value: '"5f2b"' },
  'last-modified': { value: 'Tue, 24 Nov 2026 09:00:00 GMT' }, 'cache-control': { value: 'max-age=300' },
  vary: { value: 'Accept-Encoding' }, 'content-length': { value: '5123' } };
const out = { generated: [], floor: [] };
for (let r = 0; r < rounds; r++) {
  for (const name of ['generated', 'floor']) {
    const fn = fns[name];
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < calls; i++) {
      fn({ request: { uri: '/index.html' }, response: { statusCode: 200, headers: Object.assign({}, origin) } });
    }
    out[name].push(Number(process.hrtime.bigint() - t0) / calls / 1000);
  }
}
console.log(JSON.stringify(out));
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--calls", type=int, default=100_000)
    args = parser.parse_args()
    sizes = {name: cff.generate(compile_policy(load_preset(name))).size for name in PRESETS}
    with tempfile.TemporaryDirectory() as tmp:
        strict = compile_policy(load_preset("strict"))
        generated = Path(tmp, "generated.js")
        generated.write_text(cff.generate(strict).code)
        floor = Path(tmp, "floor.js")
        floor.write_text(floor_source(strict))
        runner = Path(tmp, "runner.js")
        runner.write_text(RUNNER)
        done = subprocess.run(
            ["node", str(runner), str(generated), str(floor), str(args.rounds), str(args.calls)],
            capture_output=True, text=True, check=True, timeout=600,
        )  # fmt: skip
    times = json.loads(done.stdout)
    best = {k: sorted(v)[len(v) // 2] for k, v in times.items()}  # median of the rounds
    print(f"generated (strict): {best['generated']:.3f} us/call (median of {args.rounds} rounds)")
    print(f"floor (same headers by hand): {best['floor']:.3f} us/call")
    print(f"ratio generated/floor: {best['generated'] / best['floor']:.2f}")
    for name, size in sizes.items():
        print(f"size {name}: {size:,} bytes = {100 * size / facts.CFF_CODE_MAX:.1f}% of 10 KB")


if __name__ == "__main__":
    main()
