"""HTTP plumbing every layer above the hub shares: JSON responses and error
bodies, the one capped body reader, and the API-key check.

Nothing here knows about records or apps; ``records/``, ``apps/`` and
``server/`` import it, never the other way round."""

from relevo.web.apikey import require_api_key
from relevo.web.body import TooLarge, read_body, read_json, read_struct
from relevo.web.extension import Extension
from relevo.web.responses import error_response, json_response

__all__ = [
    "Extension",
    "TooLarge",
    "error_response",
    "json_response",
    "read_body",
    "read_json",
    "read_struct",
    "require_api_key",
]
