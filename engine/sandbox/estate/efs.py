"""Demo estate: EFS (per region)."""

from __future__ import annotations

from engine.sandbox.estate import FAIL, PASS, SeedContext, seeder

FILE_SYSTEM_CHECKS = ("efs_filesystem_encrypted", "efs_filesystem_backup_enabled")


@seeder("efs")
def seed_efs(ctx: SeedContext, region: str) -> None:
    """An unencrypted file system without backups whose access point is rooted at /, and an encrypted
    file system with backups whose access point is rooted at /app."""
    efs = ctx.client("efs", region)
    bad = efs.create_file_system(CreationToken=ctx.name("efs-plain"))["FileSystemId"]
    # The emulator lacks PutBackupPolicy: automatic backups can only be chosen at creation.
    good = efs.create_file_system(CreationToken=ctx.name("efs-hardened"), Encrypted=True,
                                  Backup=True)["FileSystemId"]
    for check_id in FILE_SYSTEM_CHECKS:
        ctx.expect(check_id, region, bad, FAIL)
        ctx.expect(check_id, region, good, PASS)
    root = efs.create_access_point(FileSystemId=bad, ClientToken=ctx.name("ap-root"))["AccessPointId"]
    ctx.expect("efs_access_point_root_directory_enforced", region, root, FAIL)
    scoped = efs.create_access_point(FileSystemId=good, ClientToken=ctx.name("ap-app"),
                                     RootDirectory={"Path": "/app"})["AccessPointId"]
    ctx.expect("efs_access_point_root_directory_enforced", region, scoped, PASS)
