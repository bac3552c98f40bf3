"""The local stack's `chalice local` takes a request's client address from X-Forwarded-For, so a bench's surge of
applicants from many venues is not one address to the per-client limits; without the header nothing changes. Requests
on two threads each read their own (the app keeps the current one in one attribute, made per thread there), and one
that waits does not hold back another."""
from __future__ import annotations

import json
import threading
import time

from chalice import Chalice
from chalice.config import Config
from chalice.local import LambdaEventConverter, LocalGateway, RouteMatcher

import scripts.chalice_local  # noqa: F401 -- installs the converter's change


def event(headers: dict) -> dict:
    converter = LambdaEventConverter(RouteMatcher(["/forces/{force_id}/applications"]))
    return converter.create_lambda_event("POST", "/forces/derbyshire/applications", headers, b"{}")


def test_the_forwarded_address_is_the_client_address():
    assert event({"X-Forwarded-For": "198.51.100.7, 10.0.0.1"})["requestContext"]["identity"]["sourceIp"] == \
        "198.51.100.7"


def test_without_the_header_the_client_is_loopback_as_before():
    assert event({"Content-Type": "application/json"})["requestContext"]["identity"]["sourceIp"] == "127.0.0.1"


def test_requests_on_two_threads_each_read_their_own_body():
    app = Chalice(app_name="one-at-a-time")

    @app.route("/echo", methods=["POST"])
    def echo():
        first = app.current_request.json_body["who"]
        time.sleep(0.2)  # the other thread's request arrives meanwhile
        return {"first": first, "then": app.current_request.json_body["who"]}

    gateway = LocalGateway(app, Config())
    answers: dict[str, dict] = {}

    def post(who: str) -> None:
        response = gateway.handle_request("POST", "/echo", {"content-type": "application/json"},
                                          json.dumps({"who": who}).encode())
        answers[who] = json.loads(response["body"])

    threads = [threading.Thread(target=post, args=(who,)) for who in ("a", "b")]
    for thread in threads:
        thread.start()
        time.sleep(0.05)
    for thread in threads:
        thread.join(timeout=10)
    assert answers == {"a": {"first": "a", "then": "a"}, "b": {"first": "b", "then": "b"}}


def test_a_request_that_waits_does_not_hold_back_another():
    app = Chalice(app_name="side-by-side")
    fast_answered = threading.Event()

    @app.route("/slow")
    def slow():  # e.g. a decision asking a busy run again: the other request is answered meanwhile
        return {"path": app.current_request.path, "saw_the_other_answered": fast_answered.wait(timeout=5)}

    @app.route("/fast")
    def fast():
        return {"path": app.current_request.path}

    gateway = LocalGateway(app, Config())
    slow_answer: dict = {}
    slow_thread = threading.Thread(target=lambda: slow_answer.update(
        json.loads(gateway.handle_request("GET", "/slow", {}, b"")["body"])))
    slow_thread.start()
    time.sleep(0.1)
    fast_answer = json.loads(gateway.handle_request("GET", "/fast", {}, b"")["body"])
    fast_answered.set()
    slow_thread.join(timeout=10)
    assert fast_answer == {"path": "/fast"}
    assert slow_answer == {"path": "/slow", "saw_the_other_answered": True}
