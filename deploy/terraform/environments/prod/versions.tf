terraform {
  # 1.11: write-only secret arguments and cross-variable validation.
  required_version = ">= 1.11.0, < 2.0.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 6.0"
    }
    cloudflare = {
      source  = "cloudflare/cloudflare"
      version = "~> 5.8"
    }
  }

  # Partial configuration: terraform init -backend-config=backend.hcl (see backend.hcl.example), e.g.
  #   bucket       = "<state-bucket>"
  #   key          = "cloudscreen/<env>/terraform.tfstate"
  #   region       = "<region>"
  #   encrypt      = true
  #   use_lockfile = true
  backend "s3" {}
}

provider "aws" {
  region              = var.aws_region
  allowed_account_ids = [var.aws_account_id] # refuse to apply to the wrong account

  default_tags {
    tags = local.tags
  }
}

# Credentials come from CLOUDFLARE_API_TOKEN (Account: Cloudflare Tunnel Edit, Zone: DNS Edit).
provider "cloudflare" {}
