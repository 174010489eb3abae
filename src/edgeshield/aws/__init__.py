"""The AWS side of edgeshield.

* ``csp_reports`` / ``collector`` — the CSP-report collector Lambda (stdlib + lazy boto3);
* ``kms_env`` — environment secrets encrypted in transit under the function-name context;
* ``payload_hash`` — the origin-request edge function that lets OAC sign report POSTs;
* ``logs`` / ``session`` — the multi-region log reader and boto3 sessions for the CLI;
* ``cdk`` — CDK constructs and the ready app (imports aws-cdk-lib; load it only to synth).
"""
