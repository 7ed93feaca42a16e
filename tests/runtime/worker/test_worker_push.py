"""Push subscribers in the worker: served at their endpoint's path, authenticated, and drained on SIGTERM like the
pull loops (a push that arrives while draining is answered 503, the ones in hand are finished and acknowledged)."""

from __future__ import annotations

import base64
import json
import threading
import time
from pathlib import Path

import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from google.auth import crypt
from google.auth import jwt as google_jwt
from worker_helpers import ROOT, write_push_spec

from edakit.runtime.adapters.pubsub import PubSubBroker, encode
from edakit.runtime.message import Message
from edakit.runtime.worker import App, AppError, Worker
from edakit.runtime.worker.probes import serve
from edakit.spec import load_spec

KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
PUBLIC = KEY.public_key().public_bytes(serialization.Encoding.PEM,
                                       serialization.PublicFormat.SubjectPublicKeyInfo).decode()
ACCOUNT = "push@edakit-worker.iam.gserviceaccount.com"


def token() -> str:
    now = int(time.time())
    signer = crypt.RSASigner.from_string(KEY.private_bytes(serialization.Encoding.PEM,
                                                           serialization.PrivateFormat.PKCS8,
                                                           serialization.NoEncryption()).decode(), key_id="k1")
    return google_jwt.encode(signer, {"aud": "https://email.example.com/pubsub/push", "email": ACCOUNT,
                                      "email_verified": True, "iss": "accounts.google.com", "iat": now,
                                      "exp": now + 600}).decode()


def push_body(message: Message, subscription: str) -> bytes:
    data, attributes = encode(message)
    return json.dumps({"message": {"data": base64.b64encode(data).decode(), "attributes": attributes,
                                   "messageId": "1", "publishTime": "2026-12-04T10:00:00Z"},
                       "subscription": f"projects/edakit-worker/subscriptions/{subscription}",
                       "deliveryAttempt": 1}).encode()


def test_a_push_in_hand_is_finished_on_drain_and_a_new_one_is_sent_back(pstest_host: str, tmp_path: Path) -> None:
    spec_file, topic = write_push_spec(tmp_path, grace=3)
    spec = load_spec(spec_file, root=ROOT)
    app = App(spec, PubSubBroker("edakit-worker", emulator_host=pstest_host))
    entered, release, seen = threading.Event(), threading.Event(), []

    @app.push("email", certs={"k1": PUBLIC})
    def send_mail(delivery) -> None:  # noqa: ANN001
        seen.append(delivery.message.id)
        entered.set()
        release.wait(5)

    worker = Worker(app)
    server, thread = serve(worker.push_app(), "127.0.0.1", 0)
    url = f"http://127.0.0.1:{server.server_port}/pubsub/push"
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token()}"}
    subscription = f"{topic}-email"
    try:
        assert requests.post(url, data=push_body(Message.new("OrderPlaced", b"{}", source="/o"), subscription),
                             headers={"Content-Type": "application/json"}, timeout=5).status_code == 401
        assert requests.post(url.replace("/pubsub/push", "/other"), data=b"{}", headers=headers,
                             timeout=5).status_code == 404
        in_hand = Message.new("OrderPlaced", b"{}", source="/o")
        answers: list[int] = []
        first = threading.Thread(target=lambda: answers.append(
            requests.post(url, data=push_body(in_hand, subscription), headers=headers, timeout=10).status_code))
        first.start()
        assert entered.wait(5)
        worker.stop()
        drained: list[bool] = []
        drainer = threading.Thread(target=lambda: drained.append(worker.drain()))
        drainer.start()
        time.sleep(0.1)
        late = requests.post(url, data=push_body(Message.new("OrderPlaced", b"{}", source="/o"), subscription),
                             headers=headers, timeout=5)
        assert late.status_code == 503 and late.text.startswith("draining")
        assert drained == []  # still waiting for the push in hand
        release.set()
        first.join(5)
        drainer.join(5)
        assert answers == [204] and drained == [True] and seen == [in_hand.id]
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def test_push_and_pull_subscribers_must_be_declared_as_what_the_spec_says(pstest_host: str, tmp_path: Path) -> None:
    spec_file, _ = write_push_spec(tmp_path)
    app = App(load_spec(spec_file, root=ROOT), PubSubBroker("edakit-worker", emulator_host=pstest_host))
    with pytest.raises(AppError, match=r"push-spec.yaml:\d+:\d+ subscribers.email is a push subscriber.*app.push"):
        app.subscriber("email", print)
    with pytest.raises(AppError, match=r"subscribers.audit is not a Pub/Sub push subscriber"):
        app.push("audit", print, certs={"k1": PUBLIC})
    with pytest.raises(AppError, match="exactly one of certs_file or certs"):
        app.push("email", print)
