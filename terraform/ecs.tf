# ------------------------------------------------------------------------------------------------
# ECS cluster, and the service under test on Fargate behind the load balancer(s).
# ------------------------------------------------------------------------------------------------

resource "aws_ecs_cluster" "this" {
  name = var.name

  setting {
    name  = "containerInsights"
    value = var.enable_container_insights ? "enabled" : "disabled"
  }

  # Container Insights writes here: created first, with a retention, and deleted with the stack.
  depends_on = [aws_cloudwatch_log_group.container_insights]
}

# Fargate Spot for the Locust workers (locust_spot_workers); on demand for everything else.
resource "aws_ecs_cluster_capacity_providers" "this" {
  count = var.locust_spot_workers ? 1 : 0

  cluster_name       = aws_ecs_cluster.this.name
  capacity_providers = ["FARGATE", "FARGATE_SPOT"]
}

locals {
  service_environment = concat(
    [
      { name = "HOST", value = "0.0.0.0" },
      { name = "PORT", value = tostring(var.container_port) },
      { name = "WORKERS", value = tostring(local.service_workers) },
      { name = "LOG_LEVEL", value = var.service_log_level },
      { name = "ACCESS_LOG", value = var.service_access_log ? "true" : "false" },
      { name = "STORE", value = var.store },
    ],
    local.postgres ? [
      # No password in the URL: asyncpg reads it from PGPASSWORD, which ECS sets from Secrets
      # Manager (below). RDS PostgreSQL 15+ refuses unencrypted connections: TLS is required.
      { name = "DATABASE_URL", value = "postgresql://${local.database_user}@${aws_db_instance.this[0].address}:${aws_db_instance.this[0].port}/${local.database_name}" },
      { name = "PGSSLMODE", value = "require" },
      { name = "DB_POOL_SIZE", value = tostring(var.db_pool_size) },
    ] : [],
    var.enable_cache ? [
      { name = "CACHE_URL", value = "rediss://${aws_elasticache_replication_group.this[0].primary_endpoint_address}:6379/0" },
    ] : [],
    # /metrics (and /health/live) also on a port of their own, served from a thread of their own
    # (target_service/README.md): the sidecar's scrapes do not queue behind a saturated service.
    var.enable_service_metrics ? [
      { name = "METRICS_PORT", value = tostring(local.metrics_port) },
    ] : [],
    var.service_store_capacity == null ? [] : [
      { name = "STORE_CAPACITY", value = tostring(var.service_store_capacity) },
    ],
  )

  # The `password` field of the secret RDS generated, read by ECS with the execution role and
  # handed to the container as PGPASSWORD (libpq's variable, which asyncpg reads too).
  service_secrets = concat(
    local.postgres ? [
      { name = "PGPASSWORD", valueFrom = "${local.database_secret_arn}:password::" },
    ] : [],
    local.admin_secret_arn == null ? [] : [
      { name = local.admin_token_env, valueFrom = local.admin_secret_arn },
    ],
  )

  # Keep-alive past the load balancers' idle timeout: otherwise uvicorn may close a connection
  # just as the load balancer sends the next request on it, which the client sees as a 502.
  service_command = ["python", "-m", "target_service", "--timeout-keep-alive", tostring(var.service_keep_alive_seconds)]

  # Liveness for the container health check (ECS replaces a task that fails it), readiness for
  # the load balancers (which stop routing to it): neither fails because the service is saturated
  # (target_service/README.md), so no task is replaced in the middle of a sweep.
  # The image needs no curl: the same urllib one-liner as the Dockerfile's HEALTHCHECK.
  service_health_command = "import urllib.request; urllib.request.urlopen('http://127.0.0.1:${var.container_port}${var.service_liveness_path}', timeout=2)"

  metrics_port = 9100

  # The ADOT collector sidecar: scrape /metrics every 10 s, write it as CloudWatch embedded metric
  # format into its own log group; CloudWatch extracts the metrics (namespace <name>/service).
  adot_config = yamlencode({
    receivers = {
      prometheus = {
        config = {
          scrape_configs = [{
            job_name        = "${var.name}-service"
            scrape_interval = "10s"
            metrics_path    = "/metrics"
            static_configs  = [{ targets = ["127.0.0.1:${local.metrics_port}"] }]
          }]
        }
      }
    }
    exporters = {
      awsemf = {
        namespace               = local.service_metrics_namespace
        log_group_name          = "/ecs/${var.name}/service-metrics"
        log_stream_name         = "{TaskId}"
        region                  = var.aws_region
        dimension_rollup_option = "NoDimensionRollup"
        metric_declarations = [{
          dimensions            = [["route", "method"]]
          metric_name_selectors = ["^loadbench_server_request_duration_seconds$"]
        }]
      }
    }
    service = { pipelines = { metrics = { receivers = ["prometheus"], exporters = ["awsemf"] } } }
  })

  adot_container = {
    name                   = "metrics-collector"
    image                  = var.adot_image
    essential              = false # a collector failure must not stop the system under test
    readonlyRootFilesystem = true
    mountPoints            = [{ sourceVolume = "tmp", containerPath = "/tmp", readOnly = false }]
    cpu                    = 64
    memoryReservation      = 64
    environment            = [{ name = "AOT_CONFIG_CONTENT", value = local.adot_config }]
    logConfiguration = {
      logDriver = "awslogs"
      options = {
        awslogs-group         = aws_cloudwatch_log_group.this.name
        awslogs-region        = var.aws_region
        awslogs-stream-prefix = "metrics-collector"
      }
    }
  }
}

resource "aws_ecs_task_definition" "service" {
  family                   = "${var.name}-service"
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = var.service_cpu
  memory                   = var.service_memory
  execution_role_arn       = aws_iam_role.execution.arn
  task_role_arn            = var.enable_service_metrics ? aws_iam_role.service_metrics[0].arn : null

  runtime_platform {
    operating_system_family = "LINUX"
    cpu_architecture        = var.task_cpu_architecture
  }

  # The root filesystem is read-only; /tmp is a task-local scratch volume.
  volume {
    name = "tmp"
  }

  container_definitions = jsonencode(concat([
    {
      name                   = "service"
      image                  = "${aws_ecr_repository.this["service"].repository_url}:${var.image_tag}"
      essential              = true
      readonlyRootFilesystem = true
      mountPoints            = [{ sourceVolume = "tmp", containerPath = "/tmp", readOnly = false }]
      command                = local.service_command
      environment            = local.service_environment
      secrets                = local.service_secrets
      portMappings           = [{ containerPort = var.container_port, protocol = "tcp" }]
      healthCheck = {
        command     = ["CMD", "python", "-c", local.service_health_command]
        interval    = 10
        timeout     = 5
        retries     = 3
        startPeriod = 10
      }
      logConfiguration = {
        logDriver = "awslogs"
        options = {
          awslogs-group         = aws_cloudwatch_log_group.this.name
          awslogs-region        = var.aws_region
          awslogs-stream-prefix = "service"
        }
      }
    },
  ], var.enable_service_metrics ? [local.adot_container] : []))
}

# Two versions of one ECS service, exactly one of which exists: with autoscaling, Terraform sets the
# task count at creation only and then leaves it to autoscaling (an apply during a sweep must not
# reset it); without, the count is service_desired_count. Terraform's ignore_changes cannot depend
# on a variable, hence the pair. Keep their bodies identical apart from the lifecycle block.
resource "aws_ecs_service" "service" {
  # Public IP as for "autoscaled" below (checkov scans that variant: checkov.tfvars autoscales).
  count = var.enable_autoscaling ? 0 : 1

  name                              = "${var.name}-service"
  cluster                           = aws_ecs_cluster.this.id
  task_definition                   = aws_ecs_task_definition.service.arn
  desired_count                     = var.service_desired_count
  launch_type                       = "FARGATE"
  health_check_grace_period_seconds = 30
  propagate_tags                    = "SERVICE"
  enable_ecs_managed_tags           = true
  wait_for_steady_state             = var.wait_for_steady_state

  network_configuration {
    subnets          = slice(aws_subnet.public[*].id, 0, local.task_subnet_count)
    security_groups  = [aws_security_group.service.id]
    assign_public_ip = true
  }

  load_balancer {
    target_group_arn = aws_lb_target_group.service.arn
    container_name   = "service"
    container_port   = var.container_port
  }

  # With Locust on ECS, the workers reach the same tasks through the internal load balancer.
  dynamic "load_balancer" {
    for_each = aws_lb_target_group.internal_service
    content {
      target_group_arn = load_balancer.value.arn
      container_name   = "service"
      container_port   = var.container_port
    }
  }

  deployment_circuit_breaker {
    enable   = true
    rollback = true
  }

  depends_on = [aws_lb_listener.http, aws_lb_listener.internal_http, aws_iam_role_policy.execution]
}

resource "aws_ecs_service" "autoscaled" {
  #checkov:skip=CKV_AWS_333:No NAT gateway (hourly cost): tasks need a public IP to pull images; their security group admits only the load balancers.
  count = var.enable_autoscaling ? 1 : 0

  name                              = "${var.name}-service"
  cluster                           = aws_ecs_cluster.this.id
  task_definition                   = aws_ecs_task_definition.service.arn
  desired_count                     = var.service_desired_count
  launch_type                       = "FARGATE"
  health_check_grace_period_seconds = 30
  propagate_tags                    = "SERVICE"
  enable_ecs_managed_tags           = true
  wait_for_steady_state             = var.wait_for_steady_state

  network_configuration {
    subnets          = slice(aws_subnet.public[*].id, 0, local.task_subnet_count)
    security_groups  = [aws_security_group.service.id]
    assign_public_ip = true
  }

  load_balancer {
    target_group_arn = aws_lb_target_group.service.arn
    container_name   = "service"
    container_port   = var.container_port
  }

  dynamic "load_balancer" {
    for_each = aws_lb_target_group.internal_service
    content {
      target_group_arn = load_balancer.value.arn
      container_name   = "service"
      container_port   = var.container_port
    }
  }

  deployment_circuit_breaker {
    enable   = true
    rollback = true
  }

  lifecycle {
    ignore_changes = [desired_count]
  }

  depends_on = [aws_lb_listener.http, aws_lb_listener.internal_http, aws_iam_role_policy.execution]
}

locals {
  service = one(concat(aws_ecs_service.service, aws_ecs_service.autoscaled))
}

# The sidecar's task role: write embedded-metric-format logs into its own log group, nothing else.
data "aws_iam_policy_document" "service_metrics" {
  count = var.enable_service_metrics ? 1 : 0

  statement {
    sid       = "WriteServiceMetrics"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"]
    resources = [aws_cloudwatch_log_group.service_metrics[0].arn, "${aws_cloudwatch_log_group.service_metrics[0].arn}:*"]
  }
}

resource "aws_iam_role" "service_metrics" {
  count = var.enable_service_metrics ? 1 : 0

  name               = "${var.name}-service-metrics"
  description        = "Lets the ${var.name} metrics collector sidecar write the service's metrics"
  assume_role_policy = data.aws_iam_policy_document.ecs_tasks_assume.json
}

resource "aws_iam_role_policy" "service_metrics" {
  count = var.enable_service_metrics ? 1 : 0

  name   = "write-service-metrics"
  role   = aws_iam_role.service_metrics[0].id
  policy = data.aws_iam_policy_document.service_metrics[0].json
}
