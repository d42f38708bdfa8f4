# ------------------------------------------------------------------------------------------------
# Locust on ECS (enable_locust): one master, its web UI behind the public load balancer on port
# 8089 (the sweep runner's --master-host), and workers that find the master by name through a Cloud
# Map private DNS namespace. The workers load the service through the internal load balancer.
# ------------------------------------------------------------------------------------------------

resource "aws_service_discovery_private_dns_namespace" "this" {
  count = var.enable_locust ? 1 : 0

  name        = local.locust_namespace
  description = "Private names of the ${var.name} Locust tasks"
  vpc         = aws_vpc.this.id
}

resource "aws_service_discovery_service" "locust_master" {
  count = var.enable_locust ? 1 : 0

  name = "locust-master"
  # A master stopped without deregistering leaves an instance behind, which blocks the delete.
  force_destroy = true

  dns_config {
    namespace_id   = aws_service_discovery_private_dns_namespace.this[0].id
    routing_policy = "MULTIVALUE"

    dns_records {
      type = "A"
      ttl  = 10
    }
  }
}

locals {
  # The master's and workers' arguments (the image's entrypoint is `locust`), from one file that the
  # tests also start their Locust processes from.
  locust_commands = jsondecode(templatefile("${path.module}/locust_commands.json.tftpl", {
    locustfile  = var.locust_file
    web_port    = local.locust_ui_port
    master_port = local.locust_port
    master_host = local.locust_master
    csv_prefix  = "/tmp/locust"
  }))

  loadgen_image        = "${aws_ecr_repository.this["loadgen"].repository_url}:${var.image_tag}"
  private_task_subnets = slice(aws_subnet.private[*].id, 0, local.task_subnet_count)
  # Between sweeps the Locust services run no task unless locust_always_on; `make remote-sweep`
  # scales them up for one sweep (deploy/aws_ops/sweeps.py) and the sweep task scales them down.
  locust_master_count  = var.locust_always_on ? 1 : 0
  locust_worker_count  = var.locust_always_on ? var.locust_workers : 0
  service_internal_url = var.enable_locust ? "http://${aws_lb.internal[0].dns_name}" : null

  locust_log_configuration = {
    logDriver = "awslogs"
    options = {
      awslogs-group         = aws_cloudwatch_log_group.this.name
      awslogs-region        = var.aws_region
      awslogs-stream-prefix = "locust"
    }
  }
}

resource "aws_ecs_task_definition" "locust_master" {
  count = var.enable_locust ? 1 : 0

  family                   = "${var.name}-locust-master"
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = var.locust_cpu
  memory                   = var.locust_memory
  execution_role_arn       = aws_iam_role.execution.arn
  task_role_arn            = aws_iam_role.locust_master[0].arn

  runtime_platform {
    operating_system_family = "LINUX"
    cpu_architecture        = var.task_cpu_architecture
  }

  volume {
    name = "tmp"
  }

  # The image's entrypoint is `locust`; these are its arguments.
  container_definitions = jsonencode([
    {
      name      = "locust-master"
      image     = local.loadgen_image
      essential = true
      # ECS Exec (SSM port forwarding to the private web UI) writes the SSM agent's files into
      # the container, which a read-only root filesystem forbids.
      readonlyRootFilesystem = false
      mountPoints            = [{ sourceVolume = "tmp", containerPath = "/tmp", readOnly = false }]
      command                = local.locust_commands.master
      environment            = [{ name = "LOCUST_HOST", value = local.service_internal_url }]
      portMappings = [
        { containerPort = local.locust_ui_port, protocol = "tcp" },
        { containerPort = local.locust_port, protocol = "tcp" },
      ]
      healthCheck = {
        command     = ["CMD", "python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:${local.locust_ui_port}/', timeout=2)"]
        interval    = 15
        timeout     = 5
        retries     = 3
        startPeriod = 15
      }
      logConfiguration = local.locust_log_configuration
    },
  ])
}

resource "aws_ecs_task_definition" "locust_worker" {
  count = var.enable_locust ? 1 : 0

  family                   = "${var.name}-locust-worker"
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = var.locust_cpu
  memory                   = var.locust_memory
  execution_role_arn       = aws_iam_role.execution.arn

  runtime_platform {
    operating_system_family = "LINUX"
    cpu_architecture        = var.task_cpu_architecture
  }

  # The root filesystem is read-only; /tmp is a task-local scratch volume.
  volume {
    name = "tmp"
  }

  container_definitions = jsonencode([
    {
      name                   = "locust-worker"
      image                  = local.loadgen_image
      essential              = true
      readonlyRootFilesystem = true
      mountPoints            = [{ sourceVolume = "tmp", containerPath = "/tmp", readOnly = false }]
      command                = local.locust_commands.worker
      logConfiguration       = local.locust_log_configuration
    },
  ])
}

resource "aws_ecs_service" "locust_master" {
  count = var.enable_locust ? 1 : 0

  name                              = "${var.name}-locust-master"
  cluster                           = aws_ecs_cluster.this.id
  task_definition                   = aws_ecs_task_definition.locust_master[0].arn
  desired_count                     = local.locust_master_count
  launch_type                       = "FARGATE"
  health_check_grace_period_seconds = var.locust_ui_public ? 30 : null
  wait_for_steady_state             = var.wait_for_steady_state && var.locust_always_on
  propagate_tags                    = "SERVICE"
  enable_ecs_managed_tags           = true
  # SSM port forwarding to the web UI (make locust-ui): the UI is not on any load balancer.
  enable_execute_command = true

  # One master at a time: stop the old one before starting a new one.
  deployment_minimum_healthy_percent = 0
  deployment_maximum_percent         = 100

  # Private subnets: images and logs through the VPC endpoints, load only to the internal ALB.
  network_configuration {
    subnets          = local.private_task_subnets
    security_groups  = [aws_security_group.locust[0].id]
    assign_public_ip = false
  }

  service_registries {
    registry_arn = aws_service_discovery_service.locust_master[0].arn
  }

  dynamic "load_balancer" {
    for_each = aws_lb_target_group.locust_master
    content {
      target_group_arn = load_balancer.value.arn
      container_name   = "locust-master"
      container_port   = local.locust_ui_port
    }
  }

  lifecycle {
    # make remote-sweep and the sweep task scale it; an apply must not stop a running sweep's.
    ignore_changes = [desired_count]
  }

  depends_on = [aws_lb_listener.locust_ui, aws_iam_role_policy.execution, aws_vpc_endpoint.interface, aws_vpc_endpoint.s3]
}

resource "aws_ecs_service" "locust_worker" {
  count = var.enable_locust ? 1 : 0

  name                    = "${var.name}-locust-worker"
  cluster                 = aws_ecs_cluster.this.id
  task_definition         = aws_ecs_task_definition.locust_worker[0].arn
  desired_count           = local.locust_worker_count
  launch_type             = var.locust_spot_workers ? null : "FARGATE"
  wait_for_steady_state   = var.wait_for_steady_state && var.locust_always_on
  propagate_tags          = "SERVICE"
  enable_ecs_managed_tags = true

  dynamic "capacity_provider_strategy" {
    for_each = var.locust_spot_workers ? ["FARGATE_SPOT"] : []
    content {
      capacity_provider = capacity_provider_strategy.value
      weight            = 1
    }
  }

  lifecycle {
    # make remote-sweep and the sweep task scale it; an apply must not stop a running sweep's.
    ignore_changes = [desired_count]
  }

  # Private subnets: images and logs through the VPC endpoints, load only to the internal ALB.
  network_configuration {
    subnets          = local.private_task_subnets
    security_groups  = [aws_security_group.locust[0].id]
    assign_public_ip = false
  }

  depends_on = [aws_ecs_service.locust_master, aws_vpc_endpoint.interface, aws_vpc_endpoint.s3, aws_ecs_cluster_capacity_providers.this]
}

# The master's task role: the SSM channel of ECS Exec (port forwarding to the web UI), nothing else.
data "aws_iam_policy_document" "locust_master" {
  count = var.enable_locust ? 1 : 0

  statement {
    sid = "EcsExecChannel"
    actions = [
      "ssmmessages:CreateControlChannel",
      "ssmmessages:CreateDataChannel",
      "ssmmessages:OpenControlChannel",
      "ssmmessages:OpenDataChannel",
    ]
    resources = ["*"] # these actions take no resource
  }
}

resource "aws_iam_role" "locust_master" {
  count = var.enable_locust ? 1 : 0

  name               = "${var.name}-locust-master"
  description        = "Lets SSM port forwarding reach the ${var.name} Locust web UI"
  assume_role_policy = data.aws_iam_policy_document.ecs_tasks_assume.json
}

resource "aws_iam_role_policy" "locust_master" {
  count = var.enable_locust ? 1 : 0

  name   = "ecs-exec-channel"
  role   = aws_iam_role.locust_master[0].id
  policy = data.aws_iam_policy_document.locust_master[0].json
}
