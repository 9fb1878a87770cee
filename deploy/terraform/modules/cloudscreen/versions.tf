# No provider configuration here: the calling root configures aws and cloudflare, and this module (with every module
# it calls) inherits them.
terraform {
  required_version = ">= 1.11.0"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 6.0, < 7.0"
    }
    cloudflare = {
      source  = "cloudflare/cloudflare"
      version = ">= 5.8, < 6.0"
    }
  }
}
