"""A last line of defence: scrub anything that looks like a credential from log records.

Code should never log a token in the first place (log platform codes and trace ids instead);
this filter catches what slips through, e.g. a `paging.next` URL carrying `access_token=`.
"""

import logging
import re

_PATTERNS = [
    # query-string and form parameters that carry credentials
    re.compile(r"(?i)((?:access_token|refresh_token|client_secret|appsecret_proof|fb_exchange_token|input_token)=)[^&\s'\"]+"),
    # an OAuth authorization code, only as a URL parameter (a log's "code=190" is a platform error code)
    re.compile(r"(?i)([?&]code=)[^&\s'\"]+"),
    # Authorization headers
    re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]+"),
    # JSON fields
    re.compile(r'(?i)("(?:access_token|refresh_token|client_secret)"\s*:\s*")[^"]*'),
]


def redact(text: str) -> str:
    for pattern in _PATTERNS:
        text = pattern.sub(r"\1[REDACTED]", text)
    return text


class RedactSecretsFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a broken format string must not drop the record
            return True
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True
