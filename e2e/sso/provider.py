"""The OpenID Connect provider of the sign-in tests: PyPI's oidc-provider-mock,
unchanged, except that it signs with a test-only key the tests also hold
(relay/tests/keys/rsa-test-only.pem). With it a test can make tokens that are
validly signed by the provider yet expired or not yet valid, which the
provider itself never issues.

Usage: python provider.py KEY.pem [oidc-provider-mock options…]
"""

import sys

import joserfc.jwk
from oidc_provider_mock import _storage
from oidc_provider_mock.__main__ import run

KEY_ID = "sso-test-rsa"

with open(sys.argv[1], "rb") as pem:
    _key = joserfc.jwk.RSAKey.import_key(pem.read(), {"kid": KEY_ID, "use": "sig"})

_make_storage = _storage.Storage.__init__


def _storage_with_the_test_key(self):
    _make_storage(self)
    self.jwk = _key


_storage.Storage.__init__ = _storage_with_the_test_key
run(sys.argv[2:])
