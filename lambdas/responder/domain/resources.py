"""The affected resource: its facts, the primary resource first, and the one name a subject shows.

GuardDuty fills several detail blocks in many findings (an S3 finding carries the caller's
access key and often an instance; a Runtime finding on EKS the node instance and the
container). ``resource.resourceType`` says which one the finding is about: that block comes
first, its name leads the resource section (``Fact.primary``) and, when it passes its AWS
naming rule (``names``), the subject. Malware Protection for Backup artefacts are recognised
by their block, not by ``resourceType`` (those strings are undocumented).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final, NamedTuple

from responder.domain import names
from responder.domain.facts import MAX_LIST_ITEMS, Fact, Msg, labelled
from responder.domain.resource_models import ContainerDetails, Resource, Volume
from responder.domain.service_models import Sequence, SequenceResource, Service


class Block(NamedTuple):
    """One detail block as facts; ``facts[0]`` names it when ``name`` is set."""

    facts: tuple[Fact, ...]
    name: str | None = None  # the raw name the block is known by
    valid: bool = False  # the name passes its AWS naming rule (may go into a subject)


NO_BLOCK: Final = Block(())


def _named(label: str, candidates: tuple[tuple[str | None, Callable[[str], bool]], ...]) -> tuple[Fact, str, bool]:
    """The block's name fact: the first candidate that passes its rule, else the first present."""
    present = [(value, rule) for value, rule in candidates if value]
    chosen = next(((v, True) for v, rule in present if rule(v)), (present[0][0], False) if present else ("", False))
    value, valid = chosen
    return Fact(label, value), value, valid


def _with_name(name: tuple[Fact, str, bool], *rest: tuple[str, object], paths: tuple[str, ...] = ()) -> Block:
    fact, value, valid = name
    facts = labelled(*rest, paths=paths)
    if not value:
        return Block(facts)
    return Block((fact, *facts), value, valid)


def _arn_id(arn: str | None, marker: str) -> str | None:
    """The resource id after ``marker`` in an ARN (``snapshot/``, ``image/``, ``volume/``)."""
    if not arn or marker not in arn:
        return None
    return arn.rsplit(marker, 1)[1] or None


def name_tag(resource: Resource) -> str | None:
    tags = resource.instance_details.tags if resource.instance_details else None
    return next((tag.value for tag in tags or [] if tag.key == "Name"), None)


# --- one function per detail block ------------------------------------------------------


def _instance(resource: Resource, *, primary: bool, interface: bool = False) -> Block:
    inst = resource.instance_details
    if inst is None:
        return NO_BLOCK
    nics = inst.network_interfaces or []
    eni = next((n.network_interface_id for n in nics if n.network_interface_id), None)
    # On a finding about another resource the instance is context (the caller's, the node).
    label = "f.instance_id" if primary else "f.related_instance"
    if interface:
        name = _named("f.network_interface", ((eni, lambda v: names.ec2_id(v, "eni")),))
        rest: tuple[tuple[str, object], ...] = ((label, inst.instance_id),)
    else:
        name = _named(label, ((inst.instance_id, lambda v: names.ec2_id(v, "i")),))
        rest = ()
    profile = inst.iam_instance_profile
    return _with_name(
        name,
        *rest,
        ("f.instance_name", name_tag(resource)),
        ("f.instance_type", inst.instance_type),
        ("f.instance_state", inst.instance_state),
        ("f.availability_zone", inst.availability_zone),
        ("f.image_id", inst.image_id),
        ("f.instance_profile", profile.arn or profile.id if profile else None),
        ("f.launch_time", inst.launch_time),
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


def _access_key(resource: Resource) -> Block:
    key = resource.access_key_details
    if key is None:
        return NO_BLOCK
    # The user (or role) is the name a responder knows; the key id when there is no valid name.
    name = _named("f.user_name", ((key.user_name, names.iam_name),))
    if not name[2] and key.access_key_id and names.access_key_id(key.access_key_id):
        name = _named("f.access_key", ((key.access_key_id, names.access_key_id),))
        return _with_name(
            name, ("f.user_name", key.user_name), ("f.principal", key.principal_id), ("f.user_type", key.user_type)
        )
    return _with_name(
        name, ("f.access_key", key.access_key_id), ("f.principal", key.principal_id), ("f.user_type", key.user_type)
    )


def _buckets(resource: Resource) -> Block:
    buckets = resource.s3_bucket_details or []
    if not buckets:
        return NO_BLOCK
    first = buckets[0]
    name = _named("f.bucket", ((first.name, names.s3_bucket),))
    facts: tuple[Fact, ...] = ()
    for index, bucket in enumerate(buckets[:MAX_LIST_ITEMS]):
        objects = bucket.s3_object_details or []
        facts += labelled(
            ("f.bucket", None if index == 0 and first.name else bucket.name),
            ("f.bucket_role", bucket.type),
            ("f.arn", bucket.arn),
            ("f.bucket_owner", bucket.owner.id if bucket.owner else None),
            ("f.public_access", bucket.public_access.effective_permission if bucket.public_access else None),
            (
                "f.encryption",
                bucket.default_server_side_encryption.encryption_type
                if bucket.default_server_side_encryption
                else None,
            ),
            ("f.object", [o.key for o in objects if o.key]),
            ("f.object_version", [o.version_id for o in objects if o.version_id]),
            ("f.object_hash", [o.hash for o in objects if o.hash]),
            paths=("f.object",),  # a key is a path from its bucket's root
        )
    extra = len(buckets) - MAX_LIST_ITEMS
    facts += labelled(("f.more_buckets", extra if extra > 0 else None))
    fact, value, valid = name
    return Block((fact, *facts), value, valid) if value else Block(facts)


def _containers(containers: list[ContainerDetails] | None) -> list[str]:
    """``name: image`` for each container (bounded by ``labelled``)."""
    out = []
    for ctr in containers or []:
        text = " ".join(part for part in (f"{ctr.name}:" if ctr.name else None, ctr.image) if part) or ctr.id
        if text:
            out.append(text)
    return out


def _privileged(containers: list[ContainerDetails] | None) -> list[str]:
    """The containers that run privileged (root on the host, in effect)."""
    return [
        ctr.name or ctr.image or ctr.id or "?"
        for ctr in containers or []
        if ctr.security_context is not None and ctr.security_context.privileged
    ]


def _host_paths(volumes: list[Volume] | None) -> list[str]:
    return [v.host_path.path for v in volumes or [] if v.host_path and v.host_path.path]


def _eks(resource: Resource) -> Block:
    eks = resource.eks_cluster_details
    if eks is None:
        return NO_BLOCK
    return _with_name(
        _named("f.eks_cluster", ((eks.name, names.eks_cluster),)),
        ("f.arn", eks.arn),
        ("f.cluster_status", eks.status),
        ("f.vpc", eks.vpc_id),
    )


def _kubernetes(resource: Resource) -> Block:
    k8s = resource.kubernetes_details
    if k8s is None:
        return NO_BLOCK
    user, workload = k8s.kubernetes_user_details, k8s.kubernetes_workload_details
    return Block(
        labelled(
            ("f.k8s_user", user.username if user else None),
            ("f.k8s_groups", user.groups if user else None),
            ("f.k8s_workload", f"{workload.type or ''} {workload.name or ''}".strip() if workload else None),
            ("f.namespace", workload.namespace if workload else None),
            ("f.service_account", workload.service_account_name if workload else None),
            ("f.host_network", workload.host_network if workload else None),
            ("f.containers", _containers(workload.containers) if workload else None),
            ("f.privileged_containers", _privileged(workload.containers) if workload else None),
            ("f.host_paths", _host_paths(workload.volumes) if workload else None),
            paths=("f.host_paths",),
        )
    )


def _ecs(resource: Resource) -> Block:
    ecs = resource.ecs_cluster_details
    if ecs is None:
        return NO_BLOCK
    task = ecs.task_details
    return _with_name(
        _named("f.ecs_cluster", ((ecs.name, names.ecs_cluster),)),
        ("f.arn", ecs.arn),
        ("f.cluster_status", ecs.status),
        ("f.ecs_task", task.arn if task else None),
        ("f.task_definition", task.definition_arn if task else None),
        ("f.task_version", task.version if task else None),
        ("f.launch_type", task.launch_type if task else None),
        ("f.started_by", task.started_by if task else None),
        ("f.containers", _containers(task.containers) if task else None),
        ("f.privileged_containers", _privileged(task.containers) if task else None),
        ("f.host_paths", _host_paths(task.volumes) if task else None),
        paths=("f.host_paths",),
    )


def _container(resource: Resource) -> Block:
    ctr = resource.container_details
    if ctr is None:
        return NO_BLOCK
    name = _named("f.container", ((ctr.name, names.container_name), (ctr.id, names.container_id)))
    return _with_name(
        name,
        ("f.container_id", ctr.id if ctr.id != name[1] else None),
        ("f.image", ctr.image),
        ("f.container_runtime", ctr.container_runtime),
        ("f.privileged", ctr.security_context.privileged if ctr.security_context else None),
        ("f.mounts", [m.mount_path for m in ctr.volume_mounts or [] if m.mount_path]),
        paths=("f.mounts",),
    )


def _lambda(resource: Resource) -> Block:
    fn = resource.lambda_details
    if fn is None:
        return NO_BLOCK
    vpc = fn.vpc_config
    return _with_name(
        _named("f.lambda", ((fn.function_name, names.lambda_function),)),
        ("f.arn", fn.function_arn),
        ("f.function_version", fn.function_version),
        ("f.execution_role", fn.role),
        ("f.revision", fn.revision_id),
        ("f.last_modified", fn.last_modified_at),
        ("f.vpc", vpc.vpc_id if vpc else None),
        ("f.subnet", vpc.subnet_ids if vpc else None),
        ("f.security_groups", [g.group_id for g in (vpc.security_groups or []) if g.group_id] if vpc else None),
    )


def _rds(resource: Resource) -> Block:
    db = resource.rds_db_instance_details
    if db is None:
        return NO_BLOCK
    return _with_name(
        _named("f.rds_instance", ((db.db_instance_identifier, names.rds_identifier),)),
        ("f.rds_cluster", db.db_cluster_identifier),
        ("f.arn", db.db_instance_arn),
        ("f.engine", " ".join(p for p in (db.engine, db.engine_version) if p) or None),
    )


def _rds_limitless(resource: Resource) -> Block:
    db = resource.rds_limitless_db_details
    if db is None:
        return NO_BLOCK
    name = _named("f.shard_group", ((db.db_shard_group_identifier, names.rds_shard_group),))
    if not name[1]:
        name = _named("f.rds_cluster", ((db.db_cluster_identifier, names.rds_identifier),))
    return _with_name(
        name,
        ("f.rds_cluster", db.db_cluster_identifier if name[0].label != "f.rds_cluster" else None),
        ("f.arn", db.db_shard_group_arn),
        ("f.resource_id", db.db_shard_group_resource_id),
        ("f.engine", " ".join(p for p in (db.engine, db.engine_version) if p) or None),
    )


def _rds_user(resource: Resource) -> Block:
    dbu = resource.rds_db_user_details
    if dbu is None:
        return NO_BLOCK
    return Block(
        labelled(
            ("f.db_user", dbu.user),
            ("f.db_application", dbu.application),
            ("f.db_name", dbu.database),
            ("f.db_ssl", dbu.ssl),
            ("f.auth_method", dbu.auth_method),
        )
    )


def _ebs_volumes(resource: Resource) -> Block:
    ebs = resource.ebs_volume_details
    if ebs is None:
        return NO_BLOCK
    scanned = ebs.scanned_volume_details or []
    first = _arn_id(scanned[0].volume_arn, "volume/") if scanned else None
    described = [
        " ".join(
            part
            for part in (
                v.volume_arn,
                f"({v.device_name})" if v.device_name else None,
                f"{v.volume_size_in_gb} GB" if v.volume_size_in_gb is not None else None,
                v.encryption_type,
            )
            if part
        )
        for v in scanned
    ]
    skipped = [v.volume_arn for v in ebs.skipped_volume_details or [] if v.volume_arn]
    return _with_name(
        _named("f.volume", ((first, lambda v: names.ec2_id(v, "vol")),)),
        ("f.scanned_volumes", described),
        ("f.volume_snapshots", [v.snapshot_arn for v in scanned if v.snapshot_arn]),
        ("f.skipped_volumes", skipped),
    )


def _snapshot(resource: Resource) -> Block:
    snap = resource.ebs_snapshot_details
    if snap is None:
        return NO_BLOCK
    return _with_name(
        _named("f.snapshot", ((_arn_id(snap.snapshot_arn, "snapshot/"), lambda v: names.ec2_id(v, "snap")),)),
        ("f.arn", snap.snapshot_arn),
    )


def _image(resource: Resource) -> Block:
    image = resource.ec2_image_details
    if image is None:
        return NO_BLOCK
    return _with_name(
        _named("f.ami", ((_arn_id(image.image_arn, "image/"), lambda v: names.ec2_id(v, "ami")),)),
        ("f.arn", image.image_arn),
    )


def _recovery_point_id(arn: str | None) -> str | None:
    """A recovery point's id: an AMI or snapshot id (EC2), else the id after ``recovery-point:``."""
    return _arn_id(arn, "image/") or _arn_id(arn, "snapshot/") or _arn_id(arn, "recovery-point:")


def _recovery_point_rule(value: str) -> bool:
    return names.ec2_id(value, "ami") or names.ec2_id(value, "snap") or names.recovery_point_id(value)


def _recovery_point(resource: Resource) -> Block:
    point = resource.recovery_point_details
    if point is None:
        return NO_BLOCK
    window = point.continuous_scan_details
    scanned = f"{window.start_time} - {window.end_time}" if window and window.start_time and window.end_time else None
    return _with_name(
        _named("f.recovery_point", ((_recovery_point_id(point.recovery_point_arn), _recovery_point_rule),)),
        ("f.arn", point.recovery_point_arn),
        ("f.backup_vault", point.backup_vault_name),
        ("f.continuous_window", scanned),
    )


def _models(resource: Resource) -> Block:
    models = [m.model_id for m in resource.model_details or [] if m.model_id]
    guard = resource.bedrock_guardrail_details
    listed = (guard.guardrails or []) if guard is not None else []
    guardrails = [f"{g.arn} (v{g.version})" if g.version else g.arn for g in listed if g.arn]
    if guard is not None and not guardrails and guard.guardrail_arn:  # the deprecated single fields
        version = f" (v{guard.guardrail_version})" if guard.guardrail_version else ""
        guardrails = [guard.guardrail_arn + version]
    filters = [
        " ".join(p for p in (f.type, f.confidence, f.action) if p)
        for f in (guard.content_policy_filters or [] if guard else [])
    ]
    return Block(
        labelled(
            ("f.model", models),
            ("f.guardrail", guardrails),
            ("f.guardrail_action", guard.guardrail_action if guard else None),
            ("f.guardrail_source", guard.guardrail_source if guard else None),
            ("f.content_filters", [f for f in filters if f]),
        )
    )


# --- attack sequences: the sequence's resources (``service.detection.sequence``) ---------

# Resource kinds that group instances, in the order a responder reads them, and the rule for
# each name; the first one present names the sequence in the subject.
_SEQUENCE_NAMES: Final[tuple[tuple[str, Callable[[str], bool]], ...]] = (
    ("EKS_CLUSTER", names.eks_cluster),
    ("ECS_CLUSTER", names.ecs_cluster),
    ("AUTOSCALING_AUTO_SCALING_GROUP", names.auto_scaling_group),
    ("CLOUDFORMATION_STACK", names.cloudformation_stack),
    ("S3_BUCKET", names.s3_bucket),
)
_MEMBER_BLOCKS: Final = (
    "autoscaling_auto_scaling_group",
    "cloudformation_stack",
    "ec2_image",
    "ec2_launch_template",
    "ec2_vpc",
    "iam_instance_profile",
    "eks_cluster",
    "ecs_cluster",
)


def _members(resource: SequenceResource) -> list[str]:
    """The instances (or containers) a sequence resource groups, as short ids."""
    data = resource.data
    if data is None:
        return []
    uids: list[str] = []
    for attribute in _MEMBER_BLOCKS:
        block = getattr(data, attribute)
        uids += block.ec2_instance_uids or [] if block is not None else []
    if data.ecs_task is not None:
        uids += data.ecs_task.container_uids or []
    if data.kubernetes_workload is not None:
        uids += data.kubernetes_workload.container_uids or []
    return list(dict.fromkeys(names.short_id(uid) for uid in uids))


def _sequence_line(resource: SequenceResource, images: dict[str, str]) -> str:
    """``name (detail): members`` for one sequence resource; a member container with its image."""
    data = resource.data
    detail: list[str] = []
    if data is not None:
        if data.ecs_task is not None:
            detail += [p for p in (data.ecs_task.task_definition_arn, data.ecs_task.launch_type) if p]
        if data.kubernetes_workload is not None:
            detail += [p for p in (data.kubernetes_workload.type, data.kubernetes_workload.namespace) if p]
        if data.container is not None and data.container.image:
            detail.append(data.container.image)
        if data.ec2_instance is not None:
            detail += [p for p in (data.ec2_instance.instance_type, data.ec2_instance.availability_zone) if p]
        if data.ec2_launch_template is not None and data.ec2_launch_template.version:
            detail.append(f"v{data.ec2_launch_template.version}")
    name = resource.name or (names.short_id(resource.uid) if resource.uid else "?")
    line = f"{name} ({', '.join(detail)})" if detail else name
    members = [f"{m} ({images[m]})" if m in images else m for m in _members(resource)]
    shown_members = ", ".join(members[:MAX_LIST_ITEMS])
    more = f" (+{len(members) - MAX_LIST_ITEMS})" if len(members) > MAX_LIST_ITEMS else ""
    return f"{line}: {shown_members}{more}" if members else line


def _sequence(sequence: Sequence | None) -> Block:
    """The sequence's resources grouped: groups and clusters with their members on one line
    each, then the resources no group lists (an instance of a group is not repeated alone)."""
    if sequence is None or not sequence.resources:
        return NO_BLOCK
    resources = sequence.resources[: MAX_LIST_ITEMS * 5]  # bounded: each line is bounded too
    grouped = {member for r in resources for member in _members(r)}
    groups = [r for r in resources if _members(r)]
    alone = [r for r in resources if not _members(r) and names.short_id(r.uid or "") not in grouped]
    images = {
        names.short_id(r.uid): r.data.container.image
        for r in resources
        if r.uid and r.data and r.data.container and r.data.container.image
    }
    # The resource that names the sequence (first kind of _SEQUENCE_NAMES present): its own line
    # comes first and is the block's name fact, so the name is not written twice.
    head, valid = next(
        ((r, rule(r.name)) for kind, rule in _SEQUENCE_NAMES for r in resources if r.resource_type == kind and r.name),
        (None, False),
    )
    facts: tuple[Fact, ...] = ()
    for r in sorted(groups + alone, key=lambda r: r is not head):
        label = SEQUENCE_LABELS.get(r.resource_type or "")
        line = _sequence_line(r, images)
        facts += labelled((label, line) if label else ("f.seq_resource", f"{r.resource_type or '?'} {line}"))
    if head is None or head.name is None:
        return Block(facts)
    if head not in groups + alone:  # a named resource that is a member of a group: name it on its own
        fact, _value, _valid = _named(SEQUENCE_LABELS[head.resource_type or ""], ((head.name, lambda _n: True),))
        facts = (fact, *facts)
    return Block(facts, head.name, valid)


# ResourceV2 resourceType -> the label of its line (the same words as the resource blocks').
SEQUENCE_LABELS: Final = {
    "EC2_INSTANCE": "f.instance",
    "EC2_NETWORK_INTERFACE": "f.network_interface",
    "S3_BUCKET": "f.bucket",
    "S3_OBJECT": "f.object",
    "ACCESS_KEY": "f.access_key",
    "EKS_CLUSTER": "f.eks_cluster",
    "KUBERNETES_WORKLOAD": "f.k8s_workload",
    "CONTAINER": "f.container",
    "ECS_CLUSTER": "f.ecs_cluster",
    "ECS_TASK": "f.ecs_task",
    "AUTOSCALING_AUTO_SCALING_GROUP": "f.auto_scaling_group",
    "IAM_INSTANCE_PROFILE": "f.instance_profile",
    "CLOUDFORMATION_STACK": "f.stack",
    "EC2_LAUNCH_TEMPLATE": "f.launch_template",
    "EC2_VPC": "f.vpc",
    "EC2_IMAGE": "f.ami",
}


# --- choosing and ordering the blocks ----------------------------------------------------

# Every block in the order secondary blocks are shown: the instance last, as context (the
# caller's instance on an IAM or S3 finding, the node under a cluster or container).
_ORDER: Final = (
    "access_key",
    "models",
    "buckets",
    "eks",
    "kubernetes",
    "ecs",
    "container",
    "lambda",
    "rds",
    "rds_limitless",
    "rds_user",
    "ebs_volumes",
    "snapshot",
    "image",
    "recovery_point",
    "instance",
)
# resource.resourceType -> the blocks that describe the resource the finding is about.
PRIMARY_BLOCKS: Final[dict[str, tuple[str, ...]]] = {
    "Instance": ("instance",),
    "EC2NetworkInterface": ("interface",),
    "AccessKey": ("access_key", "models"),
    "S3Bucket": ("buckets",),
    "S3Object": ("buckets",),
    "EKSCluster": ("eks", "kubernetes"),
    "ECSCluster": ("ecs",),
    "Container": ("container",),
    "Lambda": ("lambda",),
    "RDSDBInstance": ("rds", "rds_user"),
    "RDSLimitlessDB": ("rds_limitless", "rds_user"),
    "EBSVolume": ("ebs_volumes",),
}
# Malware Protection for Backup: the scanned artefact, whatever resourceType says.
_ARTEFACTS: Final = ("snapshot", "image", "recovery_point")


def _blocks(resource: Resource, primary: tuple[str, ...]) -> dict[str, Block]:
    instance_primary = "instance" in primary or "interface" in primary
    return {
        "instance": _instance(resource, primary=instance_primary, interface="interface" in primary),
        "access_key": _access_key(resource),
        "models": _models(resource),
        "buckets": _buckets(resource),
        "eks": _eks(resource),
        "kubernetes": _kubernetes(resource),
        "ecs": _ecs(resource),
        "container": _container(resource),
        "lambda": _lambda(resource),
        "rds": _rds(resource),
        "rds_limitless": _rds_limitless(resource),
        "rds_user": _rds_user(resource),
        "ebs_volumes": _ebs_volumes(resource),
        "snapshot": _snapshot(resource),
        "image": _image(resource),
        "recovery_point": _recovery_point(resource),
    }


def primary_blocks(resource: Resource) -> tuple[str, ...]:
    """Which blocks describe the resource the finding is about (first: the one that names it)."""
    artefacts = {
        "snapshot": resource.ebs_snapshot_details,
        "image": resource.ec2_image_details,
        "recovery_point": resource.recovery_point_details,
    }
    present = tuple(key for key in _ARTEFACTS if artefacts[key] is not None)
    if present:
        return present
    return PRIMARY_BLOCKS.get(resource.resource_type or "", ())


def _ordered(resource: Resource, service: Service | None) -> tuple[Block, tuple[Block, ...]]:
    """The primary block (its first fact names it) and every block, primary ones first."""
    primary = primary_blocks(resource)
    blocks = _blocks(resource, primary)
    sequence = service.detection.sequence if service and service.detection else None
    if resource.resource_type == "AttackSequence" or (not primary and sequence is not None):
        seq = _sequence(sequence)
        return seq, (seq, *(blocks[key] for key in _ORDER))
    keys = tuple("instance" if key == "interface" else key for key in primary)
    first = [blocks[key] for key in keys]
    if not any(block.name for block in first):  # unknown type or the block is absent: the first named
        named = next((blocks[key] for key in _ORDER if blocks[key].name), NO_BLOCK)
        return named, (named, *(blocks[key] for key in _ORDER if blocks[key] is not named))
    head = next(block for block in first if block.name)
    return head, (*first, *(blocks[key] for key in _ORDER if key not in keys))


def resource_facts(resource: Resource, role: str | None, service: Service | None = None) -> tuple[Fact, ...]:
    """The resource section: type and role, the primary resource's block (its name first,
    marked ``primary``), then the other blocks GuardDuty filled."""
    head, blocks = _ordered(resource, service)
    facts = labelled(
        ("f.resource_type", resource.resource_type),
        ("f.resource_role", Msg(f"v.role.{role}") if role else None),
    )
    for block in blocks:
        if block is head and block.facts and block.name:
            facts += (block.facts[0]._replace(primary=True), *block.facts[1:])
        else:
            facts += block.facts
    return facts


def resource_label(resource: Resource, service: Service | None = None) -> str | None:
    """The primary resource's name when it passes its AWS naming rule: what a subject shows."""
    head = _ordered(resource, service)[0]
    return head.name if head.valid else None
