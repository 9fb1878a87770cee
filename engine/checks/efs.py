"""EFS checks: file system encryption and backups, and access point root directories."""

from __future__ import annotations

from engine.checks import CheckContext, Result, check
from engine.collectors.efs import AccessPoint, FileSystem


@check(id="efs_filesystem_encrypted", service="efs", resource_type="AWS::EFS::FileSystem",
       scope="regional", severity="high", pillar="security",
       frameworks={"cis-aws-3.0": ["2.4.1"], "aws-fsbp": ["EFS.1"]},
       title="EFS file system is encrypted at rest",
       risk="The file system's data and metadata are stored in clear text.",
       remediation="Encryption at rest cannot be turned on for an existing file system: in the EFS console "
                   "create a new file system with 'Enable encryption of data at rest' ticked, copy the data "
                   "(for example with AWS DataSync) and switch mounts to it. CLI: aws efs create-file-system "
                   "--encrypted --kms-key-id <key> --creation-token <token>",
       over="file_systems")
def efs_filesystem_encrypted(fs: FileSystem, ctx: CheckContext) -> Result:
    if not fs.encrypted:
        return Result.failed(f"EFS file system {fs.id} is not encrypted at rest.")
    return Result.passed(f"EFS file system {fs.id} is encrypted at rest.")


@check(id="efs_filesystem_backup_enabled", service="efs", resource_type="AWS::EFS::FileSystem",
       scope="regional", severity="medium", pillar="reliability", frameworks={"aws-fsbp": ["EFS.7"]},
       title="EFS file system has automatic backups enabled",
       risk="Without automatic backups, deleted or corrupted files cannot be recovered.",
       remediation="In the EFS console select the file system, choose Edit, and tick 'Enable automatic "
                   "backups'. CLI: aws efs put-backup-policy --file-system-id <fs> --backup-policy "
                   "Status=ENABLED",
       over="file_systems", needs=("backup_status",))
def efs_filesystem_backup_enabled(fs: FileSystem, ctx: CheckContext) -> Result:
    if fs.backup_status != "ENABLED":
        return Result.failed(f"EFS file system {fs.id} does not have automatic backups enabled "
                             f"(backup policy {fs.backup_status or 'absent'}).")
    return Result.passed(f"EFS file system {fs.id} has automatic backups enabled.")


@check(id="efs_access_point_root_directory_enforced", service="efs", resource_type="AWS::EFS::AccessPoint",
       scope="regional", severity="medium", pillar="security", frameworks={"aws-fsbp": ["EFS.3"]},
       title="EFS access point confines clients to a subdirectory",
       risk="An access point rooted at / gives every client that mounts through it the whole file system, "
            "not just the application's directory.",
       remediation="An access point's root directory cannot be changed: in the EFS console create a new "
                   "access point whose 'Root directory path' is the application's directory (for example "
                   "/app), move clients to it and delete the old one. CLI: aws efs create-access-point "
                   "--file-system-id <fs> --root-directory 'Path=/app,CreationInfo={OwnerUid=1000,"
                   "OwnerGid=1000,Permissions=750}'; aws efs delete-access-point --access-point-id <ap>",
       over="access_points")
def efs_access_point_root_directory_enforced(ap: AccessPoint, ctx: CheckContext) -> Result:
    if not ap.root_path or ap.root_path == "/":
        return Result.failed(f"EFS access point {ap.id} (file system {ap.file_system_id}) exposes the file "
                             "system root /.")
    return Result.passed(f"EFS access point {ap.id} (file system {ap.file_system_id}) is rooted at "
                         f"{ap.root_path}.")
