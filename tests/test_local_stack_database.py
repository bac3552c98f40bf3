"""Which database `make up` gives the Prefect server, decided without starting anything."""
from __future__ import annotations

import pytest

import scripts.local_stack as local_stack


@pytest.fixture
def local(monkeypatch, tmp_path):
    monkeypatch.setattr(local_stack, "LOCAL", tmp_path)
    monkeypatch.setattr(local_stack, "POSTGRES", tmp_path / "postgres")
    monkeypatch.delenv("IAG_PREFECT_DATABASE", raising=False)
    return tmp_path


def fake_postgres(folder):
    folder.mkdir()
    for program in ("postgres", "initdb", "pg_isready", "createdb"):
        (folder / program).write_text("")
    return folder


def test_without_postgresql_the_prefect_server_keeps_sqlite_and_says_how_to_install_it(local, monkeypatch, capsys):
    monkeypatch.setenv("PG_BIN", str(local / "nowhere"))
    prefect_env = {}
    assert local_stack.postgres_service(prefect_env) is None
    assert "PostgreSQL is not installed" in capsys.readouterr().out
    assert "PREFECT_SERVER_DATABASE_CONNECTION_URL" not in prefect_env


def test_a_stack_whose_runs_are_in_sqlite_stays_on_sqlite_so_no_waiting_application_is_stranded(local, monkeypatch,
                                                                                                capsys):
    monkeypatch.setenv("PG_BIN", str(fake_postgres(local / "bin")))
    (local / "prefect").mkdir()
    (local / "prefect" / "prefect.db").write_bytes(b"")
    assert local_stack.postgres_service({}) is None
    assert "holds this stack's runs" in capsys.readouterr().out


def test_with_postgresql_it_starts_first_and_the_prefect_server_waits_for_it(local, monkeypatch):
    monkeypatch.setenv("PG_BIN", str(fake_postgres(local / "bin")))
    monkeypatch.setattr(local_stack, "postgres_user", lambda: None)  # whoever runs the tests
    stack = {service.name: service for service in local_stack.services()}
    assert list(stack)[:3] == ["moto", "postgres", "prefect"]
    assert stack["prefect"].needs == ("postgres",)
    assert stack["postgres"].port == local_stack.port("postgres")
    assert "-c" in stack["postgres"].argv and "listen_addresses=127.0.0.1" in stack["postgres"].argv
