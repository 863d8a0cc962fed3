locals {
  name = "notejam-${var.environment}"
  azs  = var.availability_zones

  # Each layer gets a block of four equally sized subnets, so adding an AZ later
  # never renumbers an existing subnet.
  public_cidrs   = [for i in range(local.az_count) : cidrsubnet(var.cidr_block, var.subnet_newbits, i)]
  private_cidrs  = [for i in range(local.az_count) : cidrsubnet(var.cidr_block, var.subnet_newbits, 4 + i)]
  database_cidrs = [for i in range(local.az_count) : cidrsubnet(var.cidr_block, var.subnet_newbits, 8 + i)]

  az_count  = length(local.azs)
  nat_count = var.single_nat_gateway ? 1 : local.az_count
}

resource "aws_vpc" "this" {
  cidr_block           = var.cidr_block
  enable_dns_support   = true
  enable_dns_hostnames = true

  tags = {
    Name = local.name
    Tier = "network"
  }
}

# Taking over the default security group with no rules leaves it denying
# everything, so nothing can fall back on it by accident.
resource "aws_default_security_group" "this" {
  vpc_id = aws_vpc.this.id

  tags = {
    Name = "${local.name}-default-deny"
    Tier = "network"
  }
}

resource "aws_internet_gateway" "this" {
  vpc_id = aws_vpc.this.id

  tags = {
    Name = local.name
    Tier = "network"
  }
}

resource "aws_subnet" "public" {
  count = local.az_count

  vpc_id            = aws_vpc.this.id
  cidr_block        = local.public_cidrs[count.index]
  availability_zone = local.azs[count.index]

  # Instances that need a public address (the bastion) ask for one in their
  # launch template; nothing gets one by default.
  map_public_ip_on_launch = false

  tags = {
    Name  = "${local.name}-public-${local.azs[count.index]}"
    Tier  = "network"
    Layer = "public"
  }
}

resource "aws_subnet" "private" {
  count = local.az_count

  vpc_id            = aws_vpc.this.id
  cidr_block        = local.private_cidrs[count.index]
  availability_zone = local.azs[count.index]

  tags = {
    Name  = "${local.name}-private-${local.azs[count.index]}"
    Tier  = "network"
    Layer = "private"
  }
}

resource "aws_subnet" "database" {
  count = local.az_count

  vpc_id            = aws_vpc.this.id
  cidr_block        = local.database_cidrs[count.index]
  availability_zone = local.azs[count.index]

  tags = {
    Name  = "${local.name}-database-${local.azs[count.index]}"
    Tier  = "network"
    Layer = "database"
  }
}

resource "aws_eip" "nat" {
  count = local.nat_count

  domain = "vpc"

  tags = {
    Name = "${local.name}-nat-${local.azs[count.index]}"
    Tier = "network"
  }

  depends_on = [aws_internet_gateway.this]
}

resource "aws_nat_gateway" "this" {
  count = local.nat_count

  allocation_id = aws_eip.nat[count.index].id
  subnet_id     = aws_subnet.public[count.index].id

  tags = {
    Name = "${local.name}-${local.azs[count.index]}"
    Tier = "network"
  }

  depends_on = [aws_internet_gateway.this]
}

resource "aws_route_table" "public" {
  vpc_id = aws_vpc.this.id

  tags = {
    Name  = "${local.name}-public"
    Tier  = "network"
    Layer = "public"
  }
}

resource "aws_route" "public_internet" {
  route_table_id         = aws_route_table.public.id
  destination_cidr_block = "0.0.0.0/0"
  gateway_id             = aws_internet_gateway.this.id
}

resource "aws_route_table_association" "public" {
  count = local.az_count

  subnet_id      = aws_subnet.public[count.index].id
  route_table_id = aws_route_table.public.id
}

# One private route table per AZ, each through the NAT gateway of its own AZ
# (or the single shared one), so losing an AZ does not cut the others' egress.
resource "aws_route_table" "private" {
  count = local.az_count

  vpc_id = aws_vpc.this.id

  tags = {
    Name  = "${local.name}-private-${local.azs[count.index]}"
    Tier  = "network"
    Layer = "private"
  }
}

resource "aws_route" "private_nat" {
  count = local.az_count

  route_table_id         = aws_route_table.private[count.index].id
  destination_cidr_block = "0.0.0.0/0"
  nat_gateway_id         = aws_nat_gateway.this[var.single_nat_gateway ? 0 : count.index].id
}

resource "aws_route_table_association" "private" {
  count = local.az_count

  subnet_id      = aws_subnet.private[count.index].id
  route_table_id = aws_route_table.private[count.index].id
}

# The database subnets have no route out of the VPC at all.
resource "aws_route_table" "database" {
  vpc_id = aws_vpc.this.id

  tags = {
    Name  = "${local.name}-database"
    Tier  = "network"
    Layer = "database"
  }
}

resource "aws_route_table_association" "database" {
  count = local.az_count

  subnet_id      = aws_subnet.database[count.index].id
  route_table_id = aws_route_table.database.id
}

# S3 traffic (bundles, CodeDeploy agent updates, package mirrors) stays on the
# gateway endpoint: free, and off the NAT gateways' per-GB charge.
resource "aws_vpc_endpoint" "s3" {
  vpc_id            = aws_vpc.this.id
  service_name      = "com.amazonaws.${data.aws_region.current.region}.s3"
  vpc_endpoint_type = "Gateway"
  route_table_ids   = concat(aws_route_table.private[*].id, [aws_route_table.public.id])

  tags = {
    Name = "${local.name}-s3"
    Tier = "network"
  }
}

data "aws_region" "current" {}

resource "aws_flow_log" "this" {
  count = var.flow_logs_enabled ? 1 : 0

  vpc_id               = aws_vpc.this.id
  traffic_type         = "ALL"
  log_destination_type = "cloud-watch-logs"
  log_destination      = var.flow_log_destination_arn
  iam_role_arn         = aws_iam_role.flow_log[0].arn

  tags = {
    Name = local.name
    Tier = "network"
  }
}

data "aws_iam_policy_document" "flow_log_assume" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["vpc-flow-logs.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "flow_log" {
  count = var.flow_logs_enabled ? 1 : 0

  name                 = "${local.name}-flow-log"
  assume_role_policy   = data.aws_iam_policy_document.flow_log_assume.json
  permissions_boundary = var.permissions_boundary_arn

  tags = {
    Tier = "network"
  }
}

data "aws_iam_policy_document" "flow_log" {
  count = var.flow_logs_enabled ? 1 : 0

  statement {
    actions = [
      "logs:CreateLogStream",
      "logs:PutLogEvents",
      "logs:DescribeLogStreams",
    ]
    resources = ["${var.flow_log_destination_arn}:*"]
  }
}

resource "aws_iam_role_policy" "flow_log" {
  count = var.flow_logs_enabled ? 1 : 0

  name   = "write-flow-logs"
  role   = aws_iam_role.flow_log[0].id
  policy = data.aws_iam_policy_document.flow_log[0].json
}
