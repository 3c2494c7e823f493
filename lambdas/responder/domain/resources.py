"""The affected resource: its facts, and the one identifier a subject names."""

from __future__ import annotations

import re
from typing import Final

from responder.domain.facts import MAX_LIST_ITEMS, Fact, Msg, labelled
from responder.domain.resource_models import Resource

SAFE_RESOURCE: Final = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:@+=,/-]{0,79}$")


def name_tag(resource: Resource) -> str | None:
    tags = resource.instance_details.tags if resource.instance_details else None
    return next((tag.value for tag in tags or [] if tag.key == "Name"), None)


def resource_facts(resource: Resource, role: str | None) -> tuple[Fact, ...]:
    facts = labelled(
        ("f.resource_type", resource.resource_type),
        ("f.resource_role", Msg(f"v.role.{role}") if role else None),
    )
    if (inst := resource.instance_details) is not None:
        nics = inst.network_interfaces or []
        facts += labelled(
            ("f.instance_id", inst.instance_id),
            ("f.instance_name", name_tag(resource)),
            ("f.instance_type", inst.instance_type),
            ("f.instance_state", inst.instance_state),
            ("f.image_id", inst.image_id),
            ("f.vpc", list(dict.fromkeys(n.vpc_id for n in nics if n.vpc_id))),
            ("f.subnet", list(dict.fromkeys(n.subnet_id for n in nics if n.subnet_id))),
            (
                "f.security_groups",
                list(
                    dict.fromkeys(
                        f"{g.group_id} ({g.group_name})" if g.group_name else str(g.group_id)
                        for n in nics
                        for g in n.security_groups or []
                        if g.group_id
                    )
                ),
            ),
            ("f.public_ip", list(dict.fromkeys(n.public_ip for n in nics if n.public_ip))),
            ("f.private_ip", list(dict.fromkeys(n.private_ip_address for n in nics if n.private_ip_address))),
        )
    if (key := resource.access_key_details) is not None:
        facts += labelled(
            ("f.access_key", key.access_key_id),
            ("f.principal", key.principal_id),
            ("f.user_name", key.user_name),
            ("f.user_type", key.user_type),
        )
    for bucket in (resource.s3_bucket_details or [])[:MAX_LIST_ITEMS]:
        facts += labelled(
            ("f.bucket", f"{bucket.name} ({bucket.type})" if bucket.type else bucket.name),
            ("f.object", [o.key for o in bucket.s3_object_details or [] if o.key]),
            paths=("f.object",),  # a key is a path from its bucket's root
        )
    if (eks := resource.eks_cluster_details) is not None:
        facts += labelled(("f.eks_cluster", eks.name or eks.arn))
    if (k8s := resource.kubernetes_details) is not None:
        user, workload = k8s.kubernetes_user_details, k8s.kubernetes_workload_details
        facts += labelled(
            ("f.k8s_user", user.username if user else None),
            ("f.k8s_groups", user.groups if user else None),
            ("f.k8s_workload", f"{workload.type or ''} {workload.name or ''}".strip() if workload else None),
            ("f.namespace", workload.namespace if workload else None),
        )
    if (ecs := resource.ecs_cluster_details) is not None:
        facts += labelled(
            ("f.ecs_cluster", ecs.name or ecs.arn),
            ("f.ecs_task", ecs.task_details.arn if ecs.task_details else None),
        )
    if (ctr := resource.container_details) is not None:
        facts += labelled(("f.container", ctr.name or ctr.id), ("f.image", ctr.image))
    if (fn := resource.lambda_details) is not None:
        facts += labelled(("f.lambda", fn.function_name or fn.function_arn))
    if (db := resource.rds_db_instance_details) is not None:
        facts += labelled(
            ("f.rds_instance", db.db_instance_identifier),
            ("f.rds_cluster", db.db_cluster_identifier),
            ("f.engine", db.engine),
        )
    if (dbu := resource.rds_db_user_details) is not None:
        facts += labelled(
            ("f.db_user", dbu.user),
            ("f.db_application", dbu.application),
            ("f.db_name", dbu.database),
            ("f.auth_method", dbu.auth_method),
        )
    return facts


def resource_label(resource: Resource) -> str | None:
    """The one identifier a subject line shows, when it passes ``SAFE_RESOURCE``."""
    buckets = resource.s3_bucket_details or []
    candidates = (
        resource.instance_details.instance_id if resource.instance_details else None,
        resource.access_key_details.user_name if resource.access_key_details else None,
        resource.access_key_details.access_key_id if resource.access_key_details else None,
        buckets[0].name if buckets else None,
        resource.eks_cluster_details.name if resource.eks_cluster_details else None,
        resource.ecs_cluster_details.name if resource.ecs_cluster_details else None,
        resource.container_details.name if resource.container_details else None,
        resource.lambda_details.function_name if resource.lambda_details else None,
        resource.rds_db_instance_details.db_instance_identifier if resource.rds_db_instance_details else None,
    )
    return next((c for c in candidates if c and SAFE_RESOURCE.fullmatch(c)), None)
