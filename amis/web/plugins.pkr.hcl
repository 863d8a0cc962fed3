# Kept in its own file: Packer releases before 1.7 (Debian's 1.6.6, used
# by the offline checks) do not know required_plugins, so the checks
# validate the templates without this file. See amis/README.md.
packer {
  required_version = ">= 1.10.0"

  required_plugins {
    amazon = {
      source  = "github.com/hashicorp/amazon"
      version = "~> 1.3"
    }
  }
}
