# ------------------------------------------------------------------------------------------------
# VPC with two public subnets in two zones. No NAT gateway (it bills by the hour): tasks get public
# IPs to pull images and ship logs, and security groups admit traffic only from the load balancer.
# ------------------------------------------------------------------------------------------------

resource "aws_vpc" "this" {
  #checkov:skip=CKV2_AWS_11:Flow logs would bill per GB for the synthetic load this stack exists to generate; no real user traffic flows here.

  cidr_block           = var.vpc_cidr
  enable_dns_support   = true
  enable_dns_hostnames = true # Cloud Map's private DNS namespace needs both

  tags = { Name = var.name }
}

# The default security group admits nothing, so that nothing lands in it by accident.
resource "aws_default_security_group" "this" {
  vpc_id = aws_vpc.this.id
  tags   = { Name = "${var.name}-default-unused" }
}

resource "aws_internet_gateway" "this" {
  vpc_id = aws_vpc.this.id
  tags   = { Name = var.name }
}

resource "aws_subnet" "public" {
  count = 2

  vpc_id            = aws_vpc.this.id
  availability_zone = local.availability_zones[count.index]
  cidr_block        = cidrsubnet(var.vpc_cidr, 24 - tonumber(split("/", var.vpc_cidr)[1]), count.index)

  tags = { Name = "${var.name}-public-${local.availability_zones[count.index]}" }
}

resource "aws_route_table" "public" {
  vpc_id = aws_vpc.this.id

  route {
    cidr_block = "0.0.0.0/0"
    gateway_id = aws_internet_gateway.this.id
  }

  tags = { Name = "${var.name}-public" }
}

resource "aws_route_table_association" "public" {
  count = 2

  subnet_id      = aws_subnet.public[count.index].id
  route_table_id = aws_route_table.public.id
}

# ------------------------------------------------------------------------------------------------
# Security groups
# ------------------------------------------------------------------------------------------------

resource "aws_security_group" "alb" {
  name        = "${var.name}-alb"
  description = "Load balancer: HTTP(S) and the Locust web UI from allowed_ingress_cidrs only"
  vpc_id      = aws_vpc.this.id

  ingress {
    description = "HTTP from the allowed networks"
    from_port   = 80
    to_port     = 80
    protocol    = "tcp"
    cidr_blocks = var.allowed_ingress_cidrs
  }

  dynamic "ingress" {
    for_each = local.https ? [443] : []
    content {
      description = "HTTPS from the allowed networks"
      from_port   = ingress.value
      to_port     = ingress.value
      protocol    = "tcp"
      cidr_blocks = var.allowed_ingress_cidrs
    }
  }

  dynamic "ingress" {
    for_each = var.enable_locust ? [local.locust_ui_port] : []
    content {
      description = "Locust web UI from the allowed networks"
      from_port   = ingress.value
      to_port     = ingress.value
      protocol    = "tcp"
      cidr_blocks = var.allowed_ingress_cidrs
    }
  }

  egress {
    description = "To the service and Locust master tasks inside the VPC"
    from_port   = 1024
    to_port     = 65535
    protocol    = "tcp"
    cidr_blocks = [var.vpc_cidr]
  }

  tags = { Name = "${var.name}-alb" }
}

resource "aws_security_group" "internal_alb" {
  count = var.enable_locust ? 1 : 0

  name        = "${var.name}-internal-alb"
  description = "Internal load balancer: HTTP from the Locust tasks only"
  vpc_id      = aws_vpc.this.id

  ingress {
    description     = "HTTP from the Locust workers"
    from_port       = 80
    to_port         = 80
    protocol        = "tcp"
    security_groups = [aws_security_group.locust[0].id]
  }

  egress {
    description = "To the service tasks inside the VPC"
    from_port   = var.container_port
    to_port     = var.container_port
    protocol    = "tcp"
    cidr_blocks = [var.vpc_cidr]
  }

  tags = { Name = "${var.name}-internal-alb" }
}

resource "aws_security_group" "service" {
  name        = "${var.name}-service"
  description = "Service tasks: the container port from the load balancers only"
  vpc_id      = aws_vpc.this.id

  ingress {
    description     = "Service port from the load balancers"
    from_port       = var.container_port
    to_port         = var.container_port
    protocol        = "tcp"
    security_groups = concat([aws_security_group.alb.id], aws_security_group.internal_alb[*].id)
  }

  egress {
    description = "HTTPS to ECR and CloudWatch Logs (no NAT gateway, so through the internet gateway)"
    from_port   = 443
    to_port     = 443
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }

  tags = { Name = "${var.name}-service" }
}

resource "aws_security_group" "locust" {
  count = var.enable_locust ? 1 : 0

  name        = "${var.name}-locust"
  description = "Locust master and workers: web UI from the load balancer, master port between them"
  vpc_id      = aws_vpc.this.id

  ingress {
    description     = "Locust web UI from the public load balancer"
    from_port       = local.locust_ui_port
    to_port         = local.locust_ui_port
    protocol        = "tcp"
    security_groups = [aws_security_group.alb.id]
  }

  ingress {
    description = "Workers to the master"
    from_port   = local.locust_port
    to_port     = local.locust_port
    protocol    = "tcp"
    self        = true
  }

  egress {
    description = "Workers to the master"
    from_port   = local.locust_port
    to_port     = local.locust_port
    protocol    = "tcp"
    self        = true
  }

  egress {
    description = "Load to the service through the internal load balancer"
    from_port   = 80
    to_port     = 80
    protocol    = "tcp"
    cidr_blocks = [var.vpc_cidr]
  }

  egress {
    description = "HTTPS to ECR and CloudWatch Logs (no NAT gateway, so through the internet gateway)"
    from_port   = 443
    to_port     = 443
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }

  tags = { Name = "${var.name}-locust" }
}
