"""Driving cycles on many machines: the shared Redis frontier, enqueuing a cycle, and the fleet's state."""

from monitor.fleet.enqueue import enqueue
from monitor.fleet.frontier import Frontier, member, parse_member, redis_error
from monitor.fleet.state import fleet_status, status_lines

__all__ = ["Frontier", "enqueue", "fleet_status", "member", "parse_member", "redis_error", "status_lines"]
