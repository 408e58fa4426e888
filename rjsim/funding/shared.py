"""Shared services: a small area served by a neighbouring area's RJ service (issue 16).

``funding.shared_services`` maps a small area (the guest) to the area whose service serves it
(the host), by ONS code or name; an empty host (``"City of London" = ""``) gives the area its
own service again (scenario files overlay the packaged table key by key, so ``{}`` alone
would keep the default entry); an area named again, by code or by name, takes the last
entry. The guest's budget (or, with ``capacity_from = "fte"``, its FTE) joins the host's, so
the guest has no staff of its own; its referrals join the host's queues (general and
specialist) in one model (:mod:`rjsim.model.region`), and each area still reports its own
referrals, waits and unmet demand. The allocation table keeps each area's own budget (what
the guest contributes) and names the service that spends it. The capacity test judges a
guest, which has no slot of its own, by its waits and unmet demand (its utilisation and
coverage do not apply); its host's utilisation counts the guests' workload too (when they are
selected, so in the tables).

Validation refuses an unknown area, an area hosting itself, chains (a host that is itself
served by another area: every guest names the service that actually serves it) and a shared
service across the edge of a pooled region (the guest and host must both be outside pooled
regions, or in the same one).
"""

from __future__ import annotations

from rjsim.core.errors import Problem, ScenarioError
from rjsim.core.schema import did_you_mean
from rjsim.data.areas import Area, AreaTable, packaged
from rjsim.scenario.spec import Scenario

WHERE = "funding.shared_services"


def _national_by_key(table: AreaTable) -> dict[str, Area]:
    """Every area of the file and of the packaged data, by lower-case code and name."""
    out: dict[str, Area] = {}
    for a in (*packaged().areas, *table.areas):  # the file's own rows win
        out[a.code.lower()] = a
        out[a.name.lower()] = a
    return out


def resolve(scenario: Scenario, table: AreaTable) -> tuple[dict[str, str], list[Problem]]:
    """Guest code -> host code of every shared service, and the problems with the setting."""
    by_key = _national_by_key(table)
    names = sorted({a.name for a in by_key.values()})
    problems: list[Problem] = []
    hosts: dict[str, str] = {}
    for guest_key, host_key in scenario.funding.shared_services.items():
        roles = [(guest_key, "served")] + ([(host_key, "serving")] if host_key else [])
        found = []
        for key, role in roles:
            area = by_key.get(key.lower())
            if area is None:
                problems.append(Problem(f"{WHERE}.{guest_key}", f"unknown {role} area "
                                        f"'{key}'{did_you_mean(key, names)}; use an ONS police "
                                        "force area code or name"))
            found.append(area)
        if None in found:
            continue
        guest = found[0]
        assert guest is not None
        if not host_key:  # an empty host: its own service (later entries win)
            hosts.pop(guest.code, None)
            continue
        host = found[1]
        assert host is not None
        if guest.code == host.code:
            problems.append(Problem(f"{WHERE}.{guest_key}", f"{guest.name} cannot be served by "
                                    "its own service; name a neighbouring area (or \"\" for "
                                    "its own service)"))
        else:  # named again (by code or name, e.g. over the packaged default): the last wins
            hosts.pop(guest.code, None)
            hosts[guest.code] = host.code
    name = {a.code: a.name for a in by_key.values()}
    for g_code, h_code in hosts.items():
        if h_code in hosts:
            problems.append(Problem(f"{WHERE}", f"{name[g_code]} is served by {name[h_code]}, "
                                    f"which is itself served by {name[hosts[h_code]]}: chains "
                                    "and cycles are not allowed; name the area whose service "
                                    "actually serves it"))
    problems += _pooling_problems(scenario, hosts, {a.code: a for a in by_key.values()})
    return hosts, problems


def _pooling_problems(scenario: Scenario, hosts: dict[str, str],
                      areas: dict[str, Area]) -> list[Problem]:
    pooled = set(scenario.pooling.regions)
    out = []
    for guest, host in hosts.items():
        g, h = areas[guest], areas[host]
        if (g.region in pooled or h.region in pooled) and g.region != h.region:
            inside, outside = (g, h) if g.region in pooled else (h, g)
            out.append(Problem(WHERE, f"{g.name} is served by {h.name}, but {inside.name} "
                               f"pools its specialists with region '{inside.region}' and "
                               f"{outside.name} is in region '{outside.region or 'none'}': a "
                               "shared service cannot cross the edge of a pooled region "
                               "(pool both regions' areas apart, or share within one region)"))
    return out


def hosts_of(scenario: Scenario, table: AreaTable) -> dict[str, str]:
    """Guest code -> host code (a :class:`ScenarioError` if the setting is invalid)."""
    hosts, problems = resolve(scenario, table)
    if problems:
        raise ScenarioError(problems, "invalid shared services")
    return hosts


def merged(values: dict[str, float], hosts: dict[str, str]) -> dict[str, float]:
    """``values`` (budgets by area code) with each guest's added to its host's and the guest's
    set to zero (guests or hosts absent from ``values`` are left alone)."""
    out = dict(values)
    for guest, host in hosts.items():
        if guest in out and host in out:
            out[host] += out[guest]
            out[guest] = 0.0
    return out
