"""CDK constructs and the ready app (imports aws-cdk-lib: load only when synthesizing).

* ``edge.EdgeFunction`` — a versioned Lambda@Edge function (plain in us-east-1, CDK's
  EdgeFunction elsewhere) with its edge execution role;
* ``collector.CspCollector`` — the CSP-report collector with its KMS key, role, logs, bucket;
* ``stack.EdgeShieldStack`` — both behind one CloudFront distribution;
* ``app.synth`` — the app ``edgeshield synth``/``deploy`` use.
"""
