# ------------------------------------------------------------------------------------------------
# VPC with two public and two private subnets in two zones. No NAT gateway (it bills by the hour):
# the service tasks sit in the public subnets with public IPs to pull images and ship logs; the
# database, the cache and (with Locust) the Locust and sweep tasks sit in the private subnets, which
# have no route out of the VPC: the Locust side reaches ECR, CloudWatch Logs and S3 through VPC
# endpoints, so its security group can limit its egress to the service and those endpoints.
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

# The private subnets follow the public ones: blocks 2 and 3 of the same size.
resource "aws_subnet" "private" {
  count = 2

  vpc_id            = aws_vpc.this.id
  availability_zone = local.availability_zones[count.index]
  cidr_block        = cidrsubnet(var.vpc_cidr, 24 - tonumber(split("/", var.vpc_cidr)[1]), count.index + 2)

  tags = { Name = "${var.name}-private-${local.availability_zones[count.index]}" }
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

# No route out of the VPC: only the local route, and the S3 gateway endpoint's when Locust runs.
resource "aws_route_table" "private" {
  vpc_id = aws_vpc.this.id
  tags   = { Name = "${var.name}-private" }
}

resource "aws_route_table_association" "private" {
  count = 2

  subnet_id      = aws_subnet.private[count.index].id
  route_table_id = aws_route_table.private.id
}

# ------------------------------------------------------------------------------------------------
# VPC endpoints for the tasks in the private subnets (enable_locust): ECR (API and registry), the
# image layers on S3 (a free gateway endpoint, which also carries the results uploads),
# CloudWatch Logs and CloudWatch metrics (the service's CPU and memory per point). Interface
# endpoints bill per hour and zone, far less than a NAT gateway.
# ------------------------------------------------------------------------------------------------

resource "aws_vpc_endpoint" "s3" {
  count = var.enable_locust ? 1 : 0

  vpc_id            = aws_vpc.this.id
  service_name      = "com.amazonaws.${var.aws_region}.s3"
  vpc_endpoint_type = "Gateway"
  route_table_ids   = [aws_route_table.private.id]

  tags = { Name = "${var.name}-s3" }
}

resource "aws_vpc_endpoint" "interface" {
  # ecs: the sweep task scales the Locust services down when it ends; ssmmessages: ECS Exec's
  # channel for SSM port forwarding to the private Locust web UI; secretsmanager: the sweep
  # task's admin token.
  for_each = var.enable_locust ? toset(local.interface_endpoints) : toset([])

  vpc_id              = aws_vpc.this.id
  service_name        = "com.amazonaws.${var.aws_region}.${each.key}"
  vpc_endpoint_type   = "Interface"
  subnet_ids          = aws_subnet.private[*].id
  security_group_ids  = [aws_security_group.endpoints[0].id]
  private_dns_enabled = true

  tags = { Name = "${var.name}-${each.key}" }
}

# ------------------------------------------------------------------------------------------------
# Security groups
# ------------------------------------------------------------------------------------------------

resource "aws_security_group" "endpoints" {
  count = var.enable_locust ? 1 : 0

  name        = "${var.name}-endpoints"
  description = "VPC interface endpoints: HTTPS from inside the VPC"
  vpc_id      = aws_vpc.this.id

  ingress {
    description = "HTTPS from the tasks of the VPC (private DNS sends their ECR and Logs calls here)"
    from_port   = 443
    to_port     = 443
    protocol    = "tcp"
    cidr_blocks = [var.vpc_cidr]
  }

  tags = { Name = "${var.name}-endpoints" }
}

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
    for_each = var.enable_locust && var.locust_ui_public ? [local.locust_ui_port] : []
    content {
      description = "Locust web UI (TLS, login) from the allowed networks"
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
    description = "HTTPS to ECR, CloudWatch Logs and Secrets Manager (no NAT gateway, so through the internet gateway)"
    from_port   = 443
    to_port     = 443
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }

  dynamic "egress" {
    for_each = merge(local.postgres ? { PostgreSQL = 5432 } : {}, var.enable_cache ? { Redis = 6379 } : {})
    content {
      description = "${egress.key} inside the VPC"
      from_port   = egress.value
      to_port     = egress.value
      protocol    = "tcp"
      cidr_blocks = [var.vpc_cidr]
    }
  }

  tags = { Name = "${var.name}-service" }
}

# The Locust master, workers and sweep task. Their egress is limited to each other, the service's
# internal load balancer and the VPC endpoints: the swarm form's host field cannot aim the workers
# anywhere else. Rules are resources of their own, because the internal load balancer's group
# refers to this one.
resource "aws_security_group" "locust" {
  count = var.enable_locust ? 1 : 0

  name        = "${var.name}-locust"
  description = "Locust master, workers and sweep task: egress to the service and VPC endpoints only"
  vpc_id      = aws_vpc.this.id

  tags = { Name = "${var.name}-locust" }
}

resource "aws_vpc_security_group_ingress_rule" "locust_ui_from_alb" {
  count = var.enable_locust && var.locust_ui_public ? 1 : 0

  security_group_id            = aws_security_group.locust[0].id
  description                  = "Locust web UI from the public load balancer"
  ip_protocol                  = "tcp"
  from_port                    = local.locust_ui_port
  to_port                      = local.locust_ui_port
  referenced_security_group_id = aws_security_group.alb.id
}

resource "aws_vpc_security_group_ingress_rule" "locust_between_tasks" {
  for_each = var.enable_locust ? { master = local.locust_port, web-ui = local.locust_ui_port } : {}

  security_group_id            = aws_security_group.locust[0].id
  description                  = "Locust ${each.key} port between the Locust tasks (workers, sweep task)"
  ip_protocol                  = "tcp"
  from_port                    = each.value
  to_port                      = each.value
  referenced_security_group_id = aws_security_group.locust[0].id
}

resource "aws_vpc_security_group_egress_rule" "locust_between_tasks" {
  for_each = var.enable_locust ? { master = local.locust_port, web-ui = local.locust_ui_port } : {}

  security_group_id            = aws_security_group.locust[0].id
  description                  = "Locust ${each.key} port between the Locust tasks (workers, sweep task)"
  ip_protocol                  = "tcp"
  from_port                    = each.value
  to_port                      = each.value
  referenced_security_group_id = aws_security_group.locust[0].id
}

resource "aws_vpc_security_group_egress_rule" "locust_to_service" {
  count = var.enable_locust ? 1 : 0

  security_group_id            = aws_security_group.locust[0].id
  description                  = "Load to the service through the internal load balancer, nowhere else"
  ip_protocol                  = "tcp"
  from_port                    = 80
  to_port                      = 80
  referenced_security_group_id = aws_security_group.internal_alb[0].id
}

resource "aws_vpc_security_group_egress_rule" "locust_to_endpoints" {
  count = var.enable_locust ? 1 : 0

  security_group_id            = aws_security_group.locust[0].id
  description                  = "HTTPS to the ECR and CloudWatch Logs endpoints"
  ip_protocol                  = "tcp"
  from_port                    = 443
  to_port                      = 443
  referenced_security_group_id = aws_security_group.endpoints[0].id
}

resource "aws_vpc_security_group_egress_rule" "locust_to_s3" {
  count = var.enable_locust ? 1 : 0

  security_group_id = aws_security_group.locust[0].id
  description       = "HTTPS to S3 through the gateway endpoint (image layers, sweep results)"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  prefix_list_id    = aws_vpc_endpoint.s3[0].prefix_list_id
}

resource "aws_security_group" "database" {
  count = local.postgres ? 1 : 0

  name        = "${var.name}-database"
  description = "PostgreSQL: from the service tasks only"
  vpc_id      = aws_vpc.this.id

  ingress {
    description     = "PostgreSQL from the service tasks"
    from_port       = 5432
    to_port         = 5432
    protocol        = "tcp"
    security_groups = [aws_security_group.service.id]
  }

  tags = { Name = "${var.name}-database" }
}

resource "aws_security_group" "cache" {
  count = var.enable_cache ? 1 : 0

  name        = "${var.name}-cache"
  description = "Redis: from the service tasks only"
  vpc_id      = aws_vpc.this.id

  ingress {
    description     = "Redis (TLS) from the service tasks"
    from_port       = 6379
    to_port         = 6379
    protocol        = "tcp"
    security_groups = [aws_security_group.service.id]
  }

  tags = { Name = "${var.name}-cache" }
}

locals {
  # monitoring: CloudWatch's GetMetricData, the service's CPU and memory per point (sweep task)
  interface_endpoints = concat(["ecr.api", "ecr.dkr", "logs", "ecs", "ssmmessages", "monitoring"],
  var.service_admin_enabled ? ["secretsmanager"] : [])
}
