terraform {
  required_version = ">= 1.11"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 6.14"
    }
  }

  # Local state on purpose: this root creates the bucket every other root
  # keeps its state in. Keep terraform.tfstate of this directory safe (it
  # holds no secret), or migrate it into the bucket afterwards as
  # provision/README.md shows.
}

provider "aws" {
  region = var.region

  default_tags {
    tags = {
      Project     = "notejam"
      Environment = "global"
      ManagedBy   = "terraform"
    }
  }
}
