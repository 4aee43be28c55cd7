"""The Redis frontier on the real Redis: claims expire unless renewed, release, politeness slots; CLI errors."""

from __future__ import annotations

import time

import pytest
import redis
from hypothesis import given
from hypothesis import strategies as st

from monitor.fleet.enqueue import interleave_hosts
from monitor.fleet.frontier import Frontier, member, parse_member
from tests.support import REDIS_URL, redis_prefix, run_cli


@pytest.fixture
def frontier():
    with redis_prefix() as prefix:
        yield Frontier(redis.Redis.from_url(REDIS_URL, decode_responses=True), prefix, visibility_timeout=0.3)


def test_claimed_work_returns_after_the_visibility_timeout_unless_renewed(frontier):
    frontier.push([member("c1", f"s{i}") for i in range(4)])
    taken = frontier.claim(3)
    assert taken == [member("c1", "s0"), member("c1", "s1"), member("c1", "s2")]
    assert (frontier.waiting(), frontier.claimed()) == (1, 3)
    assert frontier.reap() == 0
    time.sleep(0.2)
    frontier.renew(taken[:1])
    frontier.done(taken[1])
    time.sleep(0.2)
    assert frontier.reap() == 1  # s2 expired; s0 was renewed; s1 is done
    assert frontier.present() == {member("c1", "s0"), member("c1", "s2"), member("c1", "s3")}
    frontier.release(taken[:1])
    assert (frontier.waiting(), frontier.claimed()) == (3, 0)


def test_a_host_slot_is_held_by_one_request_then_spaced_by_the_delay(frontier):
    assert frontier.acquire_slot("a.example", "t1", 5000) == 0
    assert frontier.acquire_slot("a.example", "t2", 5000) > 0
    assert frontier.acquire_slot("b.example", "t3", 5000) == 0
    frontier.release_slot("a.example", "t2", 0)  # not the holder: no effect
    assert frontier.acquire_slot("a.example", "t2", 5000) > 0
    frontier.release_slot("a.example", "t1", 200)
    assert 0 < frontier.acquire_slot("a.example", "t2", 5000) <= 200
    time.sleep(0.25)
    assert frontier.acquire_slot("a.example", "t2", 5000) == 0


def test_members_round_trip():
    assert parse_member(member("abc123", "ingram-micro.nl")) == ("abc123", "ingram-micro.nl")


@given(st.lists(st.tuples(st.text("abcdef", min_size=1, max_size=4), st.sampled_from(["h1", "h2", "h3"])),
                unique_by=lambda t: t[0]))
def test_interleaving_keeps_every_source_once_and_each_hosts_order(pairs):
    order = interleave_hosts(pairs)
    assert sorted(order) == sorted(sid for sid, _ in pairs)
    host = dict(pairs)
    for name in {"h1", "h2", "h3"}:
        assert [s for s in order if host[s] == name] == [s for s, h in pairs if h == name]
    firsts = order[:len({h for _, h in pairs})]
    assert len({host[s] for s in firsts}) == len(firsts)


def test_worker_without_frontier_is_a_one_line_config_error(tmp_path):
    config = tmp_path / "noticewatch.toml"
    config.write_text('[[source]]\nid = "a"\nname = "A"\nurl = "http://127.0.0.1:9/"\n')
    result = run_cli(config, "worker")
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0 and "frontier" in result.stderr


def test_bad_redis_url_is_a_config_error(tmp_path):
    config = tmp_path / "noticewatch.toml"
    config.write_text('[frontier]\nredis = "http://127.0.0.1:6379"\n')
    result = run_cli(config, "enqueue")
    assert result.returncode == 2
    assert "frontier.redis: not a redis:// URL" in result.stderr


def test_unreachable_redis_is_a_storage_error(tmp_path):
    config = tmp_path / "noticewatch.toml"
    config.write_text(f'[storage]\ndatabase = "sqlite:///{tmp_path}/nw.db"\n'
                      '[frontier]\nredis = "redis://127.0.0.1:1/0"\n'
                      '[[source]]\nid = "a"\nname = "A"\nurl = "http://127.0.0.1:9/"\n')
    for command in ("enqueue", "worker"):
        result = run_cli(config, command)
        assert result.returncode == 3, result.stderr
        assert result.stderr.strip().count("\n") == 0 and "127.0.0.1:1" in result.stderr
