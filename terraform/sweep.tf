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

  # Each point records the service's CPU and memory over its window from CloudWatch (AWS/ECS and
  # Container Insights). GetMetricData has no resource-level permissions: "*" is its only form.
  statement {
    sid       = "ReadServiceMetrics"
    actions   = ["cloudwatch:GetMetricData"]
    resources = ["*"]
  }

  # When it ends (done, failed, stopped or at its maximum lifetime) the sweep task scales the
  # Locust services it ran on back to 0 tasks.
  statement {
    sid       = "StopSweepGenerators"
    actions   = ["ecs:UpdateService"]
    resources = [aws_ecs_service.locust_master[0].id, aws_ecs_service.locust_worker[0].id]
  }
}

locals {
  # The sweep task's entrypoint: the sweep under `timeout` (sweep_max_lifetime_minutes), then the
  # Locust services back to 0 (unless locust_always_on), also when the sweep fails or the task is
  # stopped (SIGTERM from ECS: 30 s before SIGKILL). "$@" is the command (the sweep's flags).
  sweep_script = <<-EOT
    stop_generators() {
      [ -n "$GENERATOR_SERVICES" ] || return 0
      python -c 'import boto3, os; ecs = boto3.client("ecs"); [ecs.update_service(cluster=os.environ["CLUSTER"], service=s, desiredCount=0) for s in os.environ["GENERATOR_SERVICES"].split(",")]'         && echo "sweep: Locust services scaled to 0" || echo "sweep: could not scale the Locust services to 0: make pause" >&2
    }
    trap 'kill -TERM "$child" 2>/dev/null; wait "$child"; stop_generators; exit 143' TERM INT
    if [ -n "$ADMIN_TOKEN" ] && [ "$RESET_SEED" -ge 0 ]; then
      # A fresh store before the sweep, through the service's own admin route (internal load
      # balancer only; the public one refuses /admin): no products left over from earlier sweeps.
      python -c 'import json, os, urllib.request as u; r = u.Request(os.environ["SERVICE_URL"] + "/admin/reset", data=json.dumps({"seed": int(os.environ["RESET_SEED"])}).encode(), headers={"Authorization": "Bearer " + os.environ["ADMIN_TOKEN"], "Content-Type": "application/json"}); print("sweep: store reset:", u.urlopen(r, timeout=600).read().decode())' \
        || { echo "sweep: the store reset failed: no sweep on a store in an unknown state" >&2; stop_generators; exit 2; }
    fi
    timeout -k 30 "$MAX_LIFETIME_SECONDS" python -m scenarios.remote_results run -- "$@" &
    child=$!
    wait "$child"; status=$?
    [ "$status" -eq 124 ] && echo "sweep: stopped at its maximum lifetime ($MAX_LIFETIME_SECONDS s)" >&2
    stop_generators
    exit "$status"
  EOT
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
      entryPoint             = ["sh", "-c", local.sweep_script, "sweep"]
      command                = ["--preset", "quick"]
      environment = [
        { name = "RESULTS_BUCKET", value = aws_s3_bucket.results[0].id },
        { name = "RESULTS_PREFIX", value = local.results_prefix },
        { name = "LOCUST_MASTER_URL", value = "http://${local.locust_master}:${local.locust_ui_port}" },
        { name = "LOCUST_WORKERS", value = tostring(var.locust_workers) },
        { name = "SERVICE_URL", value = local.service_internal_url },
        { name = "AWS_REGION", value = var.aws_region },
        { name = "HOME", value = "/tmp" },
        { name = "CLUSTER", value = aws_ecs_cluster.this.name },
        { name = "GENERATOR_SERVICES", value = var.locust_always_on ? "" : join(",", [aws_ecs_service.locust_master[0].name, aws_ecs_service.locust_worker[0].name]) },
        { name = "MAX_LIFETIME_SECONDS", value = tostring(var.sweep_max_lifetime_minutes * 60) },
        { name = "RESET_SEED", value = tostring(var.sweep_reset_seed) },
        # the service whose CPU and memory each point reads from CloudWatch, and how long a point
        # waits for CloudWatch's minute after its window (it publishes a minute 1-2 min late)
        { name = "SERVICE_NAME", value = "${var.name}-service" },
        { name = "SERVICE_METRICS_WAIT_S", value = "150" },
      ]
      secrets = local.admin_secret_arn == null ? [] : [
        { name = local.admin_token_env, valueFrom = local.admin_secret_arn },
      ]
      logConfiguration = merge(local.locust_log_configuration, {
        options = merge(local.locust_log_configuration.options, { awslogs-stream-prefix = "sweep" })
      })
    },
  ])
}
