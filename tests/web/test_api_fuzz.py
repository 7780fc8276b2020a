"""Schemathesis sends every API operation requests made from /api/v1/openapi.json, valid and
invalid: none may answer 500, and each answer must match the document.

Deterministic (derandomized, no example database, a fixed number of examples), so CI sees the
same requests each run. Not skippable: schemathesis is a test dependency, imported here.
"""

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from gshare.accounts import api_tokens
from gshare.core.actor import OPERATOR
from gshare.files import uploads
from gshare.sharing import grants, links

EXAMPLES = 25  # per operation and mode: about 1,300 requests in all
CHECKS = [not_a_server_error, response_schema_conformance]


@pytest.fixture
def fuzzed(site):
    """A person with a token who manages a folder with a file in their department's space,
    and the ids of what is there: nodes, a grant, a link, an upload under way."""
    user = site.user("somsak", "Finance")
    site.user("noi", "Finance")
    root = site.department_root("Finance")
    folder = site.folder(root, "Reports")
    version = site.upload(user, folder, "a.txt", b"data")

    def build(w):
        me = w.ctx.db.merge(user)
        granted = grants.grant_role(w.ctx, OPERATOR, folder.id, "manager", user=me)
        link, _ = links.create_link(w.ctx, me, version.node_id)
        started = uploads.start_upload(w.ctx, me, w.ctx.db.merge(folder), "big.bin")
        token = api_tokens.create_token(w.ctx, me, "fuzz")[1]
        return token, {
            "node_id": [folder.id, version.node_id, root.id],
            "grant_id": [granted.id],
            "link_id": [link.id],
            "token": [started.token],
            "folder": [folder.id],
            "target": [folder.id, root.id],
        }

    token, ids = site.run(build)
    return {"headers": {"Authorization": f"Bearer {token}"}, "ids": ids}


def _operations(schema):
    """Every operation, those that delete last (so the others find the world in place)."""
    operations = [result.ok() for result in schema.get_all_operations()]
    return sorted(operations, key=lambda op: (op.method.upper() == "DELETE", op.label))


def _existing(ids):
    """Draw, for each kind of id, either "keep what was generated" (None) or a real one."""
    return st.fixed_dictionaries(
        {name: st.one_of(st.none(), st.sampled_from(values)) for name, values in ids.items()}
    )


def _use_existing(case, real: dict) -> None:
    """Put ids of things that exist into a valid request, to reach past the 404s."""
    for name, value in real.items():
        if value is None:
            continue
        if name in (case.path_parameters or {}):
            case.path_parameters[name] = value
        if isinstance(case.body, dict) and name in case.body:
            case.body[name] = value


def _fuzz(operation, mode, fuzzed):
    """Send one operation's examples; raise on the first failed check."""

    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode), real=_existing(fuzzed["ids"]))
    def run(case, real):
        if mode is GenerationMode.POSITIVE:
            _use_existing(case, real)
        case.call_and_validate(headers=fuzzed["headers"], checks=CHECKS)

    run()


@pytest.mark.slow
def test_no_request_makes_the_api_fail(app, fuzzed):
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    failures = []
    operations = _operations(schema)
    assert len(operations) > 20  # the document lists the whole API
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            try:
                _fuzz(operation, mode, fuzzed)
            except Exception as exc:  # noqa: BLE001  (gather them all, then show them)
                failures.append(f"{operation.label} [{mode.value}]: {exc}")
    assert failures == [], "\n\n".join(failures)
