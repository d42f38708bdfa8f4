# ------------------------------------------------------------------------------------------------
# A headless sweep inside the VPC (enable_locust): `make remote-sweep ARGS=...` starts this task
# definition with `aws ecs run-task` (through `python -m scenarios.remote_results launch`). The task
# runs `python -m scenarios.sweep` from the load-generator image against the Locust master (by its
# Cloud Map name) and the internal load balancer, then uploads the sweep directory to the results
# bucket. Its role may put objects under the bucket's sweeps/ prefix and do nothing else.
# ------------------------------------------------------------------------------------------------

data "aws_iam_policy_document" "sweep" {
  count = var.enable_locust ? 1 : 0

  statement {
    sid       = "UploadSweepResults"
    actions   = ["s3:PutObject"]
    resources = ["${aws_s3_bucket.results[0].arn}/${local.results_prefix}/*"]
  }
}

resource "aws_iam_role" "sweep" {
  count = var.enable_locust ? 1 : 0

  name               = "${var.name}-sweep-task"
  description        = "Lets the ${var.name} sweep task upload its results, nothing else"
  assume_role_policy = data.aws_iam_policy_document.ecs_tasks_assume.json
}

resource "aws_iam_role_policy" "sweep" {
  count = var.enable_locust ? 1 : 0

  name   = "put-sweep-results"
  role   = aws_iam_role.sweep[0].id
  policy = data.aws_iam_policy_document.sweep[0].json
}

resource "aws_ecs_task_definition" "sweep" {
  count = var.enable_locust ? 1 : 0

  family                   = "${var.name}-sweep"
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = var.sweep_cpu
  memory                   = var.sweep_memory
  execution_role_arn       = aws_iam_role.execution.arn
  task_role_arn            = aws_iam_role.sweep[0].arn

  runtime_platform {
    operating_system_family = "LINUX"
    cpu_architecture        = var.task_cpu_architecture
  }

  volume {
    name = "tmp"
  }

  # run-task overrides the command with the sweep's flags (ARGS of `make remote-sweep`).
  container_definitions = jsonencode([
    {
      name                   = "sweep"
      image                  = local.loadgen_image
      essential              = true
      readonlyRootFilesystem = true
      mountPoints            = [{ sourceVolume = "tmp", containerPath = "/tmp", readOnly = false }]
      entryPoint             = ["python", "-m", "scenarios.remote_results", "run", "--"]
      command                = ["--preset", "quick"]
      environment = [
        { name = "RESULTS_BUCKET", value = aws_s3_bucket.results[0].id },
        { name = "RESULTS_PREFIX", value = local.results_prefix },
        { name = "LOCUST_MASTER_URL", value = "http://${local.locust_master}:${local.locust_ui_port}" },
        { name = "LOCUST_WORKERS", value = tostring(var.locust_workers) },
        { name = "SERVICE_URL", value = local.service_internal_url },
        { name = "AWS_REGION", value = var.aws_region },
        { name = "HOME", value = "/tmp" },
      ]
      logConfiguration = merge(local.locust_log_configuration, {
        options = merge(local.locust_log_configuration.options, { awslogs-stream-prefix = "sweep" })
      })
    },
  ])
}
