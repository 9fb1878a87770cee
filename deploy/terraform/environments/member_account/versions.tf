terraform {
  required_version = ">= 1.11.0, < 2.0.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 6.0"
    }
  }

  # Partial configuration, one state per scanned account: terraform init -backend-config=backend.hcl, e.g.
  #   bucket       = "<state-bucket>"
  #   key          = "cloudscreen/member/<account-id>/terraform.tfstate"
  #   region       = "<region>"
  #   encrypt      = true
  #   use_lockfile = true
  backend "s3" {}
}

# Run with credentials of the scanned account (e.g. AWS_PROFILE); the provider refuses any other account.
provider "aws" {
  region              = var.aws_region
  allowed_account_ids = [var.aws_account_id]

  default_tags {
    tags = { Project = "cloudscreen", ManagedBy = "terraform" }
  }
}
