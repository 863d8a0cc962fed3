terraform {
  required_version = ">= 1.11"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 6.14"
    }
  }

  backend "s3" {
    key          = "global/terraform.tfstate"
    encrypt      = true
    use_lockfile = true
  }
}

provider "aws" {
  region = var.region

  # Account-wide resources belong to no single environment; "global" keeps
  # them out of every environment's tag-based discovery.
  default_tags {
    tags = {
      Project     = "notejam"
      Environment = "global"
      ManagedBy   = "terraform"
    }
  }
}
