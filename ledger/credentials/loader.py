"""The JSON-LD document loader: it serves only the contexts shipped in `contexts/`.

Canonicalizing a credential needs its `@context` documents. Fetching them at run time
would make signing and verifying depend on the network and on whoever serves those URLs
today; so the package ships the exact files (copies of the W3C and 1EdTech originals, see
`contexts/README.md`) and any other URL is refused with `UnknownContext`. No network, ever.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from functools import cache
from importlib.resources import files
from typing import Any

CREDENTIALS_V2 = "https://www.w3.org/ns/credentials/v2"
OB_V3P0 = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"

# URL → file in contexts/.
SHIPPED: dict[str, str] = {
    CREDENTIALS_V2: "www.w3.org_ns_credentials_v2.jsonld",
    "https://w3id.org/security/data-integrity/v2": "w3id.org_security_data-integrity_v2.jsonld",
    "https://w3id.org/security/multikey/v1": "w3id.org_security_multikey_v1.jsonld",
    OB_V3P0: "purl.imsglobal.org_spec_ob_v3p0_context-3.0.3.json",
    "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.2.json": "purl.imsglobal.org_spec_ob_v3p0_context-3.0.2.json",
    "https://purl.imsglobal.org/spec/ob/v3p0/extensions.json": "purl.imsglobal.org_spec_ob_v3p0_extensions.json",
}


class UnknownContext(ValueError):
    """A document names a context this package does not ship."""

    def __init__(self, url: str):
        super().__init__(f"the JSON-LD context {url!r} is not one the register ships (no context is fetched)")
        self.url = url


@cache
def shipped(url: str) -> dict[str, Any]:
    """The parsed context document for `url`, from the package."""
    return json.loads(files("ledger.credentials").joinpath("contexts", SHIPPED[url]).read_text("utf-8"))


def document_loader(extra: Mapping[str, dict[str, Any]] | None = None) -> Callable[[str, Any], dict[str, Any]]:
    """A pyld document loader over the shipped contexts (and `extra`, URL → document, for tests)."""
    extra = dict(extra or {})

    def load(url: str, options: Any = None) -> dict[str, Any]:
        if url in extra:
            document = extra[url]
        elif url in SHIPPED:
            document = shipped(url)
        else:
            raise UnknownContext(url)
        return {"contentType": "application/ld+json", "contextUrl": None, "documentUrl": url, "document": document}

    return load
