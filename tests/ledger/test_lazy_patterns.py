"""marshmallow imported with its e-mail patterns compiled on first use (ledger/lazy_patterns.py).

The import itself runs in a new process: this one imported marshmallow long ago. What is checked
there: the patterns are not compiled by the import, `re.compile` is the standard one again after
it, and the e-mail validator answers as the same patterns compiled at once answer.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest

from ledger.lazy_patterns import LazyPattern, _Finder, _Loader, install

# Addresses for which marshmallow's Email validator must answer as its patterns, compiled at once, do.
ADDRESSES = ["nurse@example.org", "a.b+c@sub.example.nl", "zorg@bücher.example", "x@[192.168.0.1]",
             "x@[999.1.1.1]", "x@-leading.example", "x@trailing-.example", "no-at-sign", "x@localhost",
             '"quoted name"@example.org', "x@example", "x@example.c", "ÿ@ÿÿ.ÿÿ", "x@exa mple.org"]

CHILD = """
import json, re, sys
compile_before = re.compile
import ledger  # installs the finder
from ledger.lazy_patterns import _Finder, install
finders = [sum(isinstance(f, _Finder) for f in sys.meta_path)]
install()  # a second call adds none
finders.append(sum(isinstance(f, _Finder) for f in sys.meta_path))
import marshmallow
from marshmallow import ValidationError, validate
lazy = [validate.Email.USER_REGEX, validate.Email.DOMAIN_REGEX]
report = {
    "finders": finders,
    "kinds": [type(p).__name__ for p in lazy],
    "compiled_by_import": [p._compiled is not None for p in lazy],
    "re_compile_restored": re.compile is compile_before,
    "loader": type(validate.__loader__).__name__,
    "source_readable": "class Email" in __import__("inspect").getsource(validate),
}
def answer(address):
    try:
        validate.Email()(address)
        return True
    except ValidationError:
        return False
eager = [re.compile(p.pattern, p.flags) for p in lazy]
def eager_answer(address):  # marshmallow's own rule, with the patterns compiled at once
    user, _, domain = address.rpartition("@")
    if not user or not eager[0].match(user):
        return False
    return domain in validate.Email.DOMAIN_WHITELIST or bool(eager[1].match(domain))
addresses = json.loads(sys.argv[1])
report["answers"] = [answer(a) for a in addresses]
report["eager_answers"] = [eager_answer(a) for a in addresses]
print(json.dumps(report))
"""


def test_marshmallow_imported_through_the_application_defers_its_email_patterns() -> None:
    done = subprocess.run([sys.executable, "-c", CHILD, json.dumps(ADDRESSES)], capture_output=True, text=True,
                          timeout=120, check=True)
    report = json.loads(done.stdout)
    assert report["finders"] == [1, 1]
    assert report["kinds"] == ["LazyPattern", "LazyPattern"]
    assert report["compiled_by_import"] == [False, False]
    assert report["re_compile_restored"] is True
    assert report["loader"] == "_Loader"
    assert report["source_readable"] is True
    assert report["answers"] == report["eager_answers"]
    assert True in report["answers"] and False in report["answers"]  # the samples tell the two apart


def test_a_lazy_pattern_compiles_once_on_first_use_and_not_for_dunder_lookups() -> None:
    lazy = LazyPattern(r"[a-z]+\Z", re.IGNORECASE)
    assert getattr(lazy, "__isabstractmethod__", False) is False  # as ABCMeta asks, at class creation
    assert lazy._compiled is None
    assert lazy.match("ABC") is not None and lazy.match("AB1") is None
    first = lazy._compiled
    assert first is not None and lazy.pattern == r"[a-z]+\Z" and lazy.flags & re.IGNORECASE
    assert lazy._compiled is first
    with pytest.raises(re.error):
        LazyPattern("(", 0).match("x")  # a bad pattern fails where it is used, as re.compile would


def test_re_compile_is_restored_when_the_module_fails_to_load() -> None:
    class Failing:
        def create_module(self, spec: object) -> None:
            return None

        def exec_module(self, module: object) -> None:
            assert re.compile is LazyPattern  # deferred while the module runs
            raise ImportError("broken module")

    compile_before = re.compile
    with pytest.raises(ImportError, match="broken module"):
        _Loader(Failing()).exec_module(object())  # type: ignore[arg-type]
    assert re.compile is compile_before


def test_the_finder_takes_only_marshmallow_validate() -> None:
    finder = _Finder()
    assert finder.find_spec("marshmallow.fields", None) is None
    assert finder.find_spec("json", None) is None
    import marshmallow

    spec = finder.find_spec("marshmallow.validate", marshmallow.__path__)
    assert spec is not None and isinstance(spec.loader, _Loader) and spec.origin.endswith("validate.py")


def test_install_adds_nothing_once_marshmallow_is_loaded() -> None:
    import marshmallow.validate  # noqa: F401

    before = list(sys.meta_path)
    install()
    assert sys.meta_path == before
