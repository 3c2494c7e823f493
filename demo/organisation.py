"""The demo's AWS Organization, on the embedded AWS: OUs, named and tagged member accounts, the
routes file that sends each OU's findings to its team, and the events moved into it.

The demo account (moto's, ``emulator.ACCOUNT``) is the management account and the GuardDuty
administrator: the triage function reads the organisation with its own credentials. moto gives
new accounts random ids, so the bundled events are rewritten to the member accounts created here
(``place``). Events keep their own Region: those outside the home Region reach it as they would
from a forwarding stack (``emulator.put_events``).
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import boto3

from demo.emulator import ACCOUNT, REGION

FINDING = "GuardDuty Finding"
OBJECT_SCAN_RESULT = "GuardDuty Malware Protection Object Scan Result"
ACCOUNT_ID = re.compile(r"\d{12}")
BANDS = ("Low", "Medium", "High", "Critical")  # the routes file's min_band values, lowest first


@dataclass(frozen=True)
class Member:
    """A member account: its name, the OU it sits in (a path: ``Production/Payments``) and its tags."""

    name: str
    ou: str
    team: str
    owner: str  # the owner-email tag

    @property
    def tags(self) -> tuple[tuple[str, str], ...]:
        return (("team", self.team), ("owner-email", self.owner))


@dataclass(frozen=True)
class Route:
    """One entry of the routes file: an OU's findings from ``min_band`` up, to its team."""

    name: str
    ou: str  # OU path; an account in a nested OU matches too
    ses: tuple[str, ...]
    sns: bool
    min_band: str


@dataclass(frozen=True)
class Design:
    """An organisation to create: OU paths (parents first), member accounts, routes."""

    ous: tuple[str, ...]
    members: tuple[Member, ...]
    routes: tuple[Route, ...]


# `make demo`: Production (with Payments nested in it) and Sandbox, each sent to its own team;
# the Sandbox team wants High and Critical only, by email; the Production team Medium and up, by
# email and through the RouteTopic (an SNS subscription filtered on the route name).
DEMO = Design(
    ous=("Production", "Production/Payments", "Sandbox"),
    members=(
        Member("payments-prod", "Production/Payments", "payments", "payments-lead@example.com"),
        Member("web-prod", "Production", "web", "web-lead@example.com"),
        Member("data-sandbox", "Sandbox", "data", "data-lead@example.com"),
        Member("dev-sandbox", "Sandbox", "platform", "platform-lead@example.com"),
    ),
    routes=(
        Route("production", "Production", ("prod-team@example.com",), sns=True, min_band="Medium"),
        Route("sandbox", "Sandbox", ("sandbox-team@example.com",), sns=False, min_band="High"),
    ),
)


def spread(ous: int, accounts: int) -> Design:
    """``accounts`` member accounts over ``ous`` OUs, one route (SES, Low and up) per OU: the org burst."""
    paths = tuple(f"Unit{n + 1}" for n in range(ous))
    members = tuple(
        Member(f"account-{n + 1:02d}", paths[n % ous], f"team{n % ous + 1}", f"owner{n + 1:02d}@example.com")
        for n in range(accounts)
    )
    routes = tuple(
        Route(f"unit{n + 1}", path, (f"unit{n + 1}-team@example.com",), False, "Low") for n, path in enumerate(paths)
    )
    return Design(paths, members, routes)


@dataclass(frozen=True)
class Organisation:
    """The organisation as created on the embedded AWS."""

    design: Design
    root_id: str
    ou_ids: dict[str, str]  # OU path -> its id
    accounts: dict[str, Member]  # account id -> member
    management_name: str  # the management account's name (it publishes the scan results)

    def name_of(self, account_id: str | None) -> str | None:
        """The account's name in the organisation, None for an account outside it."""
        if account_id == ACCOUNT:
            return self.management_name
        member = self.accounts.get(account_id or "")
        return member.name if member else None

    def routes_for(self, account_id: str | None, band: str) -> list[Route]:
        """The routes whose OU holds the account (itself or an ancestor) and whose floor the band reaches."""
        member = self.accounts.get(account_id or "")
        if member is None or band not in BANDS:
            return []
        return [
            route
            for route in self.design.routes
            if (member.ou == route.ou or member.ou.startswith(f"{route.ou}/"))
            and BANDS.index(band) >= BANDS.index(route.min_band)
        ]

    def route_addresses(self) -> dict[str, tuple[str, ...]]:
        """Each route's SES recipients, by route name."""
        return {route.name: route.ses for route in self.design.routes}

    def route_subscribers(self) -> dict[str, tuple[str, ...]]:
        """The RouteTopic's email subscriptions of each route that has SNS on (each filtered on its name)."""
        return {route.name: (f"{route.name}-oncall@example.com",) for route in self.design.routes if route.sns}

    def routes_document(self) -> str:
        """The routes file (JSON) the operator would put in the RoutesParameter."""
        routes = [
            {
                "name": route.name,
                "match": {"ous": [self.ou_ids[route.ou]], "min_band": route.min_band},
                "ses": list(route.ses),
                "sns": route.sns,
            }
            for route in self.design.routes
        ]
        return json.dumps({"version": 1, "routes": routes})


def create(design: Design) -> Organisation:
    """The organisation on the embedded AWS, the demo account as its management account."""
    client = boto3.client("organizations", region_name=REGION)
    client.create_organization(FeatureSet="ALL")
    root_id: str = client.list_roots()["Roots"][0]["Id"]
    ou_ids: dict[str, str] = {}
    for path in design.ous:
        parent, _, name = path.rpartition("/")
        unit = client.create_organizational_unit(ParentId=ou_ids[parent] if parent else root_id, Name=name)
        ou_ids[path] = unit["OrganizationalUnit"]["Id"]
    accounts: dict[str, Member] = {}
    for member in design.members:
        status = client.create_account(
            Email=member.owner,
            AccountName=member.name,
            Tags=[{"Key": key, "Value": value} for key, value in member.tags],
        )["CreateAccountStatus"]
        account_id = str(status["AccountId"])
        client.move_account(AccountId=account_id, SourceParentId=root_id, DestinationParentId=ou_ids[member.ou])
        accounts[account_id] = member
    management = client.describe_account(AccountId=ACCOUNT)["Account"]
    return Organisation(design, root_id, ou_ids, accounts, str(management["Name"]))


def place(events: Sequence[dict[str, Any]], organisation: Organisation) -> list[dict[str, Any]]:
    """The events moved into the organisation's member accounts, round robin, its old account id
    replaced wherever it appears (ARNs, bucket names). A resource lives in one account: the findings
    and scan results of one bucket or snapshot, and every delivery of one finding, go to the same
    account (so an already reported object or snapshot is still recognised). A finding's envelope
    account is the GuardDuty administrator's, as for every member finding; a scan result's is the
    bucket's account (it has no other). Anything else (a malformed or a non-finding event) is left
    as it is."""
    members = list(organisation.accounts)
    owner: dict[str, str] = {}  # what _owned_by names -> its member account
    placed = []
    for event in events:
        detail = event.get("detail")
        scan = event.get("detail-type") == OBJECT_SCAN_RESULT
        old = event.get("account") if scan else detail.get("accountId") if isinstance(detail, dict) else None
        if not (isinstance(detail, dict) and isinstance(old, str) and (scan or event.get("detail-type") == FINDING)):
            placed.append(copy.deepcopy(event))
            continue
        new = owner.setdefault(_owned_by(detail, scan), members[len(owner) % len(members)])
        text = json.dumps(event)
        if ACCOUNT_ID.fullmatch(old):
            text = re.sub(rf"(?<!\d){old}(?!\d)", new, text)
        moved = json.loads(text)
        if "id" in detail:  # the finding keeps its id, whatever digits it holds
            moved["detail"]["id"] = detail["id"]
        if not scan:
            moved["detail"]["accountId"] = new
        moved["account"] = new if scan else ACCOUNT
        placed.append(moved)
    return placed


def _owned_by(detail: dict[str, Any], scan: bool) -> str:
    """What decides the account an event goes to: its bucket or snapshot, else its finding id."""
    if scan:
        return f"bucket:{(detail.get('s3ObjectDetails') or {}).get('bucketName')}"
    resource: dict[str, Any] = detail["resource"] if isinstance(detail.get("resource"), dict) else {}
    buckets = resource.get("s3BucketDetails") or [{}]
    if isinstance(buckets, list) and isinstance(buckets[0], dict) and buckets[0].get("name"):
        return f"bucket:{buckets[0]['name']}"
    snapshot = resource.get("ebsSnapshotDetails") or {}
    if isinstance(snapshot, dict) and snapshot.get("snapshotArn"):
        return f"snapshot:{snapshot['snapshotArn']}"
    return f"finding:{detail.get('id')}"
