module "member_role" {
  source = "../../modules/member_role"

  role_name         = var.member_role_name
  scanner_role_arns = var.scanner_role_arns
  external_id       = var.external_id
}
