"""`services.infer` end to end: a standard client of the protocol (tritonclient.http), each answer, canaries,
shadows, tenant isolation and per-tenant counts, against the real process and a real registry."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import numpy as np
import pytest
import tritonclient.http as triton_http
from tritonclient.utils import InferenceServerException

from aios.inference.classifier import TextClassifier
from aios.inference.triton_contract import OUTPUT_NAMES, decode_predictions
from aios.tenants.store import IssuedKey
from tests.integration.infer.conftest import Models, bearer, metric_sum, wait_for_versions, wait_until_ready
from tests.support.tiny_models import ClincSubset

OUTPUTS = (*OUTPUT_NAMES, "model_version")


def client(url: str) -> triton_http.InferenceServerClient:
    return triton_http.InferenceServerClient(url.removeprefix("http://"), network_timeout=30)


def text_input(texts: list[str], binary: bool = True) -> triton_http.InferInput:
    tensor = triton_http.InferInput("text", [len(texts), 1], "BYTES")
    tensor.set_data_from_numpy(np.array([t.encode() for t in texts], dtype=object).reshape(-1, 1), binary_data=binary)
    return tensor


def infer_json(url: str, name: str, api_key: str, texts: list[str], **request: object) -> httpx.Response:
    body = {"inputs": [{"name": "text", "shape": [len(texts)], "datatype": "BYTES", "data": texts}], **request}
    return httpx.post(f"{url}/v2/models/{name}/infer", json=body, headers=bearer(api_key), timeout=30)


def test_tritonclient_gets_the_models_answers(
    infer_url: str, models: Models, new_tenant: Callable[[], IssuedKey], clinc_small: ClincSubset
) -> None:
    name, (version,) = models.new()
    tenant = new_tenant()
    wait_until_ready(infer_url, name, tenant.api_key)
    texts = [example.text for example in clinc_small.test]
    local = TextClassifier.load(models.store.fetch(version.artifact_uri), device="cpu").predict(texts, 3)
    triton = client(infer_url)
    try:
        assert triton.is_server_live() and triton.is_server_ready()
        assert triton.is_model_ready(name, headers=bearer(tenant.api_key))
        metadata = triton.get_model_metadata(name, headers=bearer(tenant.api_key))
        assert metadata["versions"] == ["1"] and metadata["inputs"][0]["name"] == "text"
        assert {output["name"] for output in metadata["outputs"]} == set(OUTPUTS)
        for binary in (True, False):
            # A fresh headers dict per call: tritonclient adds its binary header length to the one it is given.
            result = triton.infer(
                name,
                [text_input(texts, binary)],
                outputs=[triton_http.InferRequestedOutput(o, binary_data=binary) for o in OUTPUTS],
                headers=bearer(tenant.api_key),
                request_id="req-1",
            )
            got = decode_predictions({o: result.as_numpy(o) for o in OUTPUT_NAMES}, 3)
            assert [(p.label, p.oos) for p in got] == [(p.label, p.oos) for p in local]
            assert [p.confidence for p in got] == pytest.approx([p.confidence for p in local], abs=1e-4)
            assert [[label for label, _ in p.top_k] for p in got] == [[label for label, _ in p.top_k] for p in local]
            assert result.as_numpy("model_version").reshape(-1).tolist() == [1] * len(texts)
            response = result.get_response()
            assert response["model_version"] == "1" and response["id"] == "req-1"
        # Outputs left unnamed come back binary, as tritonclient asks by default.
        result = triton.infer(name, [text_input(texts[:2])], headers=bearer(tenant.api_key), parameters={"top_k": 5})
        assert result.as_numpy("top_labels").shape == (2, 5)
    finally:
        triton.close()


def test_each_refusal_has_its_status_and_reason(
    infer_url: str, models: Models, new_tenant: Callable[[], IssuedKey]
) -> None:
    name, _ = models.new()
    tenant = new_tenant()
    wait_until_ready(infer_url, name, tenant.api_key)
    url = f"{infer_url}/v2/models/{name}/infer"

    assert httpx.post(url, json={}, timeout=10).status_code == 401
    assert httpx.post(url, json={}, headers=bearer("not-a-key"), timeout=10).status_code == 401
    missing = infer_json(infer_url, "no-such-model", tenant.api_key, ["hi"])
    assert missing.status_code == 404 and "no-such-model" in missing.json()["error"]
    cases = {
        "not an inference request": httpx.post(url, content=b"{", headers=bearer(tenant.api_key), timeout=10),
        "shape": infer_json(
            infer_url,
            name,
            tenant.api_key,
            ["a", "b"],
            inputs=[{"name": "text", "shape": [3], "datatype": "BYTES", "data": ["a", "b"]}],
        ),
        "datatype BYTES": infer_json(
            infer_url,
            name,
            tenant.api_key,
            [],
            inputs=[{"name": "text", "shape": [1], "datatype": "FP32", "data": [1.0]}],
        ),
        "top_k": infer_json(infer_url, name, tenant.api_key, ["a"], parameters={"top_k": 0}),
        "no output": infer_json(infer_url, name, tenant.api_key, ["a"], outputs=[{"name": "embedding"}]),
        "at most 256 texts": infer_json(infer_url, name, tenant.api_key, ["a"] * 257),
        "characters": infer_json(infer_url, name, tenant.api_key, ["a" * 10_001]),
    }
    for reason, answer in cases.items():
        assert answer.status_code == 400, (reason, answer.text)
        assert reason in answer.json()["error"], (reason, answer.text)
    header = b'{"inputs":[{"name":"text","shape":[1],"datatype":"BYTES","parameters":{"binary_data_size":9}}]}'
    forged = httpx.post(
        url,
        content=header + b"\xff\xff\xff\x7fabcde",
        headers={**bearer(tenant.api_key), "Inference-Header-Content-Length": str(len(header))},
        timeout=10,
    )
    assert forged.status_code == 400 and "length-prefixed" in forged.json()["error"]
    too_big = httpx.post(url, content=b"x" * (4 * 1024 * 1024 + 1), headers=bearer(tenant.api_key), timeout=30)
    assert too_big.status_code == 413


def test_canary_share_by_request_id_and_shadow_recorded(
    infer_url: str, models: Models, new_tenant: Callable[[], IssuedKey]
) -> None:
    name, (_, second) = models.new(seeds=2)
    models.call("promote", name, second.version, "canary", share=0.3)
    models.call("promote", name, second.version, "shadow")
    tenant = new_tenant()
    wait_until_ready(infer_url, name, tenant.api_key)
    wait_for_versions(infer_url, name, tenant.api_key, ["1", "2"])

    versions = [
        infer_json(infer_url, name, tenant.api_key, ["what is my balance"], id=f"r{i}").json()["model_version"]
        for i in range(60)
    ]
    share = versions.count("2") / len(versions)
    assert 0.1 < share < 0.55, versions
    again = [
        infer_json(infer_url, name, tenant.api_key, ["what is my balance"], id=f"r{i}").json()["model_version"]
        for i in range(60)
    ]
    assert again == versions, "a request id always reaches the same version"
    answer = infer_json(infer_url, name, tenant.api_key, ["hello"], id="r0").json()
    assert answer["parameters"]["alias"] == {"1": "production", "2": "canary"}[answer["model_version"]]

    shadow = metric_sum(infer_url, "aios_prediction_confidence_count", model=name, version="2", alias="shadow")
    assert shadow >= 120, "the shadow ran on a copy of every request"
    assert (
        metric_sum(infer_url, "aios_classified_total", model=name, version="2", alias="canary")
        == versions.count("2") * 2
    )
    assert metric_sum(infer_url, "aios_inference_events_total", tenant=tenant.tenant_id, model=name, version="1") >= 1


def test_a_tenants_own_model_and_aliases_are_its_alone(
    infer_url: str, models: Models, new_tenant: Callable[[], IssuedKey]
) -> None:
    owner, other = new_tenant(), new_tenant()
    own, _ = models.new(alias=None)
    models.call("promote", own, 1, "production", tenant=owner.tenant_id)
    shared, (_, second) = models.new(seeds=2)
    models.call("promote", shared, second.version, "production", tenant=owner.tenant_id)
    wait_until_ready(infer_url, own, owner.api_key)
    wait_until_ready(infer_url, shared, other.api_key)
    wait_for_versions(infer_url, shared, owner.api_key, ["2"])

    assert infer_json(infer_url, own, owner.api_key, ["hi"]).json()["model_version"] == "1"
    for path in ("", "/ready"):
        assert httpx.get(f"{infer_url}/v2/models/{own}{path}", headers=bearer(other.api_key)).status_code == 404
    assert infer_json(infer_url, own, other.api_key, ["hi"]).status_code == 404
    # The same name: the owner's own production version, everyone else the global one.
    assert infer_json(infer_url, shared, owner.api_key, ["hi"]).json()["model_version"] == "2"
    assert infer_json(infer_url, shared, other.api_key, ["hi"]).json()["model_version"] == "1"

    assert metric_sum(infer_url, "aios_inference_events_total", tenant=owner.tenant_id, model=own, version="1") == 1
    assert metric_sum(infer_url, "aios_inference_events_total", tenant=other.tenant_id, model=own, version="1") == 0


def test_tritonclient_raises_the_reason(infer_url: str, new_tenant: Callable[[], IssuedKey]) -> None:
    triton = client(infer_url)
    try:
        with pytest.raises(InferenceServerException, match="no model 'nothing-here'"):
            triton.infer("nothing-here", [text_input(["hi"])], headers=bearer(new_tenant().api_key))
    finally:
        triton.close()
