"""Lambda@Edge handlers that break CloudFront's rules, one way each (used by invoke tests)."""

import time


def _response(event):
    return event["Records"][0]["cf"]["response"]


def add_via(event, context):
    response = _response(event)
    response["headers"]["via"] = [{"key": "Via", "value": "1.1 me"}]
    return response


def delete_transfer_encoding(event, context):
    response = _response(event)
    response["headers"].pop("transfer-encoding", None)
    return response


def raise_error(event, context):
    raise RuntimeError("boom at the edge")


def sleep_past_timeout(event, context):
    time.sleep(30)


def not_a_dict(event, context):
    return ["not", "an", "object"]


def set_object(event, context):
    return {"status": "200", "headers": {}, "body": {1, 2}}


def context_fields(event, context):
    response = _response(event)
    print("ctx", context.function_name, context.memory_limit_in_mb, context.invoked_function_arn)
    return response
