# -*- coding: utf-8 -*-

# Copyright: Contributors to the fleetops.ssm collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import pytest

from ansible.errors import AnsibleLookupError
from ansible.plugins.loader import lookup_loader

from ansible_collections.fleetops.ssm.tests.unit.utils.ssm_stub import arn
from ansible_collections.fleetops.ssm.tests.unit.utils.ssm_stub import parameter

KMS_DENIED = "User: arn:aws:iam::123456789012:user/reader is not authorized to perform: kms:Decrypt on resource: key"


@pytest.fixture
def warnings():
    return []


@pytest.fixture
def lookup(ssm, warnings, monkeypatch):
    plugin = lookup_loader.get("fleetops.ssm.parameter")
    assert plugin is not None

    def fake_client(service, retry_decorator=None, **extra):
        assert service == "ssm"
        return ssm.client

    monkeypatch.setattr(plugin, "client", fake_client)
    monkeypatch.setattr(plugin, "warn", warnings.append)
    return plugin


def get_parameters(ssm, names, found, decrypt=True):
    """Queue one GetParameters call for names; ``found`` maps the names that exist to their values."""
    response = {"Parameters": [parameter(name, value) for name, value in found.items()]}
    invalid = [name for name in names if name not in found]
    if invalid:
        response["InvalidParameters"] = invalid
    ssm.add("get_parameters", response, {"Names": names, "WithDecryption": decrypt})


class TestNames:
    def test_one_name(self, ssm, lookup):
        get_parameters(ssm, ["/app/db/host"], {"/app/db/host": "db1"})

        assert lookup.run(["/app/db/host"], {}) == ["db1"]

    def test_batches_of_ten_keep_the_order_of_the_terms(self, ssm, lookup):
        terms = [f"/app/key{index:02d}" for index in range(23)]
        for start in (0, 10, 20):
            batch = terms[start:start + 10]
            # AWS answers in any order.
            get_parameters(ssm, batch, {name: name[-5:] for name in reversed(batch)})

        assert lookup.run(terms, {}) == [name[-5:] for name in terms]
        assert ssm.operations == ["GetParameters"] * 3
        assert [len(params["Names"]) for params in ssm.params("GetParameters")] == [10, 10, 3]

    def test_without_decryption(self, ssm, lookup):
        get_parameters(ssm, ["/app/secret"], {"/app/secret": "AQICAHh-encrypted"}, decrypt=False)

        assert lookup.run(["/app/secret"], {}, decrypt=False) == ["AQICAHh-encrypted"]

    def test_version_selector_term(self, ssm, lookup, warnings):
        found = dict(parameter("/app/key", "three", 3), Selector=":3")  # AWS returns the bare name plus the selector
        ssm.add("get_parameters", {"Parameters": [found]}, {"Names": ["/app/key:3"], "WithDecryption": True})

        assert lookup.run(["/app/key:3"], {}) == ["three"]
        assert warnings == []

    def test_label_selector_and_plain_terms_of_one_parameter(self, ssm, lookup):
        terms = ["/app/key", "/app/key:live", "/app/other"]
        ssm.add("get_parameters", {"Parameters": [
            parameter("/app/other", "O"),
            dict(parameter("/app/key", "from-live", 2), Selector=":live"),
            parameter("/app/key", "newest", 4),
        ]}, {"Names": terms, "WithDecryption": True})

        assert lookup.run(terms, {}) == ["newest", "from-live", "O"]

    def test_arn_term(self, ssm, lookup):
        term = arn("/app/key")
        ssm.add("get_parameters", {"Parameters": [parameter("/app/key", "by-arn")]}, {"Names": [term], "WithDecryption": True})

        assert lookup.run([term], {}) == ["by-arn"]

    def test_unknown_version_follows_on_missing(self, ssm, lookup, warnings):
        ssm.add("get_parameters", {"Parameters": [], "InvalidParameters": ["/app/key:9"]},
                {"Names": ["/app/key:9"], "WithDecryption": True})

        assert lookup.run(["/app/key:9"], {}, on_missing="warn") == [None]
        assert warnings == ["Skipping /app/key:9: parameter /app/key:9 was not found (ParameterNotFound)"]

    def test_missing_fails_by_default(self, ssm, lookup):
        get_parameters(ssm, ["/app/a", "/app/gone"], {"/app/a": "1"})

        with pytest.raises(AnsibleLookupError, match="parameter /app/gone was not found"):
            lookup.run(["/app/a", "/app/gone"], {})

    def test_missing_warns(self, ssm, lookup, warnings):
        get_parameters(ssm, ["/app/a", "/app/gone"], {"/app/a": "1"})

        assert lookup.run(["/app/a", "/app/gone"], {}, on_missing="warn") == ["1", None]
        assert len(warnings) == 1
        assert warnings[0].startswith("Skipping /app/gone: parameter /app/gone was not found")

    def test_missing_skips_quietly(self, ssm, lookup, warnings):
        get_parameters(ssm, ["/app/gone"], {})

        assert lookup.run(["/app/gone"], {}, on_missing="skip") == [None]
        assert warnings == []


class TestPaths:
    def test_term_ending_in_a_slash_is_a_path(self, ssm, lookup):
        ssm.by_path("/app/prod", [parameter("/app/prod/db/host", "db1"), parameter("/app/prod/port", "5432")])

        assert lookup.run(["/app/prod/"], {}) == [{"db/host": "db1", "port": "5432"}]
        assert ssm.operations == ["GetParametersByPath"]

    def test_bypath_makes_every_term_a_path(self, ssm, lookup):
        ssm.by_path("/app/prod", [parameter("/app/prod/a", "1")], recursive=False, decrypt=False)

        assert lookup.run(["/app/prod"], {}, bypath=True, recursive=False, decrypt=False) == [{"a": "1"}]

    def test_root_path(self, ssm, lookup):
        ssm.by_path("/", [parameter("/top", "t"), parameter("/app/x", "x")])

        assert lookup.run(["/"], {}) == [{"top": "t", "app/x": "x"}]

    def test_names_and_paths_keep_their_order(self, ssm, lookup):
        get_parameters(ssm, ["/app/a", "/app/b"], {"/app/a": "A", "/app/b": "B"})
        ssm.by_path("/app/tree", [parameter("/app/tree/leaf", "L")])

        assert lookup.run(["/app/a", "/app/tree/", "/app/b"], {}) == ["A", {"leaf": "L"}, "B"]

    def test_empty_path_fails_by_default(self, ssm, lookup):
        ssm.by_path("/app/empty", [])

        with pytest.raises(AnsibleLookupError, match="no parameters were found under path /app/empty/"):
            lookup.run(["/app/empty/"], {})

    @pytest.mark.parametrize("mode, warned", [("warn", 1), ("skip", 0)])
    def test_empty_path_gives_an_empty_dict(self, ssm, lookup, warnings, mode, warned):
        ssm.by_path("/app/empty", [])

        assert lookup.run(["/app/empty/"], {}, on_missing=mode) == [{}]
        assert len(warnings) == warned

    def test_denied_path(self, ssm, lookup, warnings):
        ssm.add_error("get_parameters_by_path", "AccessDeniedException", "not allowed")

        assert lookup.run(["/app/secret/"], {}, on_denied="warn") == [{}]
        assert len(warnings) == 1 and "ssm:GetParametersByPath" in warnings[0]

    def test_denied_path_fails_by_default(self, ssm, lookup):
        ssm.add_error("get_parameters_by_path", "AccessDeniedException", "not allowed")

        with pytest.raises(AnsibleLookupError, match="ssm:GetParametersByPath"):
            lookup.run(["/app/secret/"], {})


class TestDenied:
    def queue_denied_batch(self, ssm, names, message="not allowed"):
        ssm.add_error("get_parameters", "AccessDeniedException", message, expected={"Names": names, "WithDecryption": True})

    def test_denied_batch_is_read_one_by_one(self, ssm, lookup, warnings):
        self.queue_denied_batch(ssm, ["/app/a", "/app/locked", "/app/b"])
        ssm.add("get_parameter", {"Parameter": parameter("/app/a", "A")}, {"Name": "/app/a", "WithDecryption": True})
        ssm.add_error("get_parameter", "AccessDeniedException", "not allowed", expected={"Name": "/app/locked", "WithDecryption": True})
        ssm.add("get_parameter", {"Parameter": parameter("/app/b", "B")}, {"Name": "/app/b", "WithDecryption": True})

        assert lookup.run(["/app/a", "/app/locked", "/app/b"], {}, on_denied="warn") == ["A", None, "B"]
        assert ssm.operations == ["GetParameters", "GetParameter", "GetParameter", "GetParameter"]
        assert len(warnings) == 1
        assert warnings[0].startswith("Skipping /app/locked: ")
        assert "the caller needs IAM permission for ssm:GetParameter" in warnings[0]

    def test_denied_fails_by_default_without_reading_one_by_one(self, ssm, lookup):
        self.queue_denied_batch(ssm, ["/app/a", "/app/locked"])

        with pytest.raises(AnsibleLookupError, match="the caller needs IAM permission for ssm:GetParameters"):
            lookup.run(["/app/a", "/app/locked"], {})
        assert ssm.operations == ["GetParameters"]

    def test_denied_skips_quietly(self, ssm, lookup, warnings):
        self.queue_denied_batch(ssm, ["/app/locked"])
        ssm.add_error("get_parameter", "AccessDeniedException", "not allowed")

        assert lookup.run(["/app/locked"], {}, on_denied="skip") == [None]
        assert warnings == []

    def test_kms_denial_names_kms_decrypt(self, ssm, lookup):
        self.queue_denied_batch(ssm, ["/app/secret"], KMS_DENIED)

        with pytest.raises(AnsibleLookupError) as raised:
            lookup.run(["/app/secret"], {})
        assert "the caller needs IAM permission for kms:Decrypt" in str(raised.value)

    def test_kms_denial_found_one_by_one(self, ssm, lookup, warnings):
        self.queue_denied_batch(ssm, ["/app/plain", "/app/secret"], KMS_DENIED)
        ssm.add("get_parameter", {"Parameter": parameter("/app/plain", "P")}, {"Name": "/app/plain", "WithDecryption": True})
        ssm.add_error("get_parameter", "AccessDeniedException", KMS_DENIED, expected={"Name": "/app/secret", "WithDecryption": True})

        assert lookup.run(["/app/plain", "/app/secret"], {}, on_denied="warn") == ["P", None]
        assert len(warnings) == 1 and "the caller needs IAM permission for kms:Decrypt" in warnings[0]

    def test_missing_found_one_by_one_follows_on_missing(self, ssm, lookup, warnings):
        self.queue_denied_batch(ssm, ["/app/locked", "/app/gone"])
        ssm.add_error("get_parameter", "AccessDeniedException", "not allowed")
        ssm.add_error("get_parameter", "ParameterNotFound", expected={"Name": "/app/gone", "WithDecryption": True})

        assert lookup.run(["/app/locked", "/app/gone"], {}, on_denied="skip", on_missing="warn") == [None, None]
        assert warnings == ["Skipping /app/gone: parameter /app/gone was not found (ParameterNotFound)"]

    def test_only_the_denied_batch_is_read_one_by_one(self, ssm, lookup):
        terms = [f"/app/k{index:02d}" for index in range(11)]
        get_parameters(ssm, terms[:10], {name: "v" for name in terms[:10]})
        self.queue_denied_batch(ssm, terms[10:])
        ssm.add_error("get_parameter", "AccessDeniedException", "not allowed")

        assert lookup.run(terms, {}, on_denied="skip") == ["v"] * 10 + [None]
        assert ssm.operations == ["GetParameters", "GetParameters", "GetParameter"]


class TestOtherErrors:
    def test_other_errors_fail_whatever_the_options(self, ssm, lookup):
        ssm.add_error("get_parameters", "InvalidKeyId", "The key is disabled")

        with pytest.raises(AnsibleLookupError, match="InvalidKeyId"):
            lookup.run(["/app/a"], {}, on_missing="skip", on_denied="skip")

    def test_other_errors_on_a_path(self, ssm, lookup):
        ssm.add_error("get_parameters_by_path", "InvalidFilterKey", "bad")

        with pytest.raises(AnsibleLookupError, match="InvalidFilterKey"):
            lookup.run(["/app/"], {}, on_missing="skip", on_denied="skip")
