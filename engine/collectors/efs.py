"""EFS collector: file systems with their backup policy (one call per file system; no policy means
backups are off) and the region's access points (one listing for all file systems)."""

from __future__ import annotations

from dataclasses import dataclass, field

from engine.collectors import CollectContext, Resource, ServiceData, collector, fill
from engine.model import Scope
from engine.throttle import paginate


@dataclass
class FileSystem(Resource):
    name: str = ""
    encrypted: bool = False
    # DescribeBackupPolicy.BackupPolicy.Status (ENABLED, ENABLING, DISABLED, DISABLING); None = no policy.
    backup_status: str | None = None


@dataclass
class AccessPoint(Resource):
    file_system_id: str = ""
    # RootDirectory.Path; None when the access point reports no root directory.
    root_path: str | None = None


@dataclass
class EfsData(ServiceData):
    file_systems: list[FileSystem] = field(default_factory=list)
    access_points: list[AccessPoint] = field(default_factory=list)


@collector("efs", scope=Scope.REGIONAL, cost=1.0, title="EFS")
def collect_efs(ctx: CollectContext) -> EfsData:
    """List the region's file systems and access points once; fetch each file system's backup policy."""
    efs = ctx.client("efs")
    data = EfsData(account_id=ctx.account_id, region=ctx.region)
    data.file_systems = [
        FileSystem(id=f["FileSystemId"],
                   arn=f.get("FileSystemArn") or f"arn:aws:elasticfilesystem:{ctx.region}:{ctx.account_id}:"
                                                 f"file-system/{f['FileSystemId']}",
                   region=ctx.region, name=f.get("Name") or "", encrypted=bool(f.get("Encrypted")))
        for f in paginate(efs, "describe_file_systems", "FileSystems")
    ]
    ctx.map(lambda f: fill(f, "backup_status", efs.describe_backup_policy, FileSystemId=f.id,
                           absent=("PolicyNotFound",),
                           transform=lambda r: (r.get("BackupPolicy") or {}).get("Status")), data.file_systems)
    if not data.file_systems:
        return data  # every access point belongs to a file system: nothing to list
    data.access_points = [
        AccessPoint(id=a["AccessPointId"],
                    arn=a.get("AccessPointArn") or f"arn:aws:elasticfilesystem:{ctx.region}:{ctx.account_id}:"
                                                   f"access-point/{a['AccessPointId']}",
                    region=ctx.region, file_system_id=a.get("FileSystemId", ""),
                    root_path=(a.get("RootDirectory") or {}).get("Path"))
        for a in paginate(efs, "describe_access_points", "AccessPoints")
    ]
    return data
