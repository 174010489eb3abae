"""Functions for the fidelity tests: AWS's own "Overriding a response header" example (the
Python version, in our words), results that break only rules AWS documents nowhere, and
failures whose reason must reach serve's console safely."""


def override_last_modified(event, context):
    """AWS's example: copy the S3 metadata entry, key included, into Last-Modified."""
    response = event["Records"][0]["cf"]["response"]
    headers = response["headers"]
    source, target = "X-Amz-Meta-Last-Modified", "Last-Modified"
    if headers.get(source.lower()):
        headers[target.lower()] = [headers[source.lower()][0]]
        print(f"Response header {target} was set to {headers[target.lower()][0]['value']}")
    return response


def origin_response(event, context):
    cf = event["Records"][0]["cf"]
    response, uri = cf["response"], cf["request"]["uri"]
    headers = response["headers"]
    if uri.startswith("/s3meta"):
        return override_last_modified(event, context)
    if uri.startswith("/upper-key"):
        headers["X-Frame-Options"] = [{"key": "X-Frame-Options", "value": "DENY"}]
    elif uri.startswith("/add-via"):
        headers["via"] = [{"key": "Via", "value": "1.1 mine"}]
    elif uri.startswith("/hostile"):
        # Untrusted text on its way to the console: an escape sequence, rich markup, a bidi
        # override and a second line.
        raise ValueError("\x1b[2J\x1b[31mred [bold]loud[/bold] \u202eevil\nsecond line")
    return response
