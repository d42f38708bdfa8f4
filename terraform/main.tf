# Values shared by the files of this stack, which are split by concern:
#   network.tf      VPC, public and private subnets, routes, VPC endpoints, security groups
#   ecr.tf          image repositories and their lifecycle policy
#   iam.tf          the tasks' execution role (least privilege) and the log group
#   ecs.tf          cluster, the service's task definition and ECS service
#   alb.tf          load balancer, target groups, listeners
#   autoscaling.tf  target tracking on CPU and on requests per target
#   locust.tf       Locust master and workers on ECS, Cloud Map namespace
#   database.tf     store = "postgres": RDS PostgreSQL, optional ElastiCache Redis
#   monitoring.tf   CloudWatch dashboard and alarms
#   s3.tf           results bucket of the remote sweeps, optional load balancer access logs
#   sweep.tf        the task that runs `python -m scenarios.sweep` inside the VPC, and its role

data "aws_availability_zones" "available" {
  #checkov:skip=CKV_AWS_394:Only the first two zones are used (local.availability_zones), so a zone AWS adds later changes nothing; availability_zones pins them by name.

  state = "available"
}

locals {
  emulated = var.aws_endpoint_url != null

  # The zones of the tasks' subnets: both, or the first one only (single_az).
  task_subnet_count = var.single_az ? 1 : 2

  availability_zones = length(var.availability_zones) == 2 ? var.availability_zones : slice(data.aws_availability_zones.available.names, 0, 2)

  # Fargate's allowed task sizes: CPU units => memory sizes (MiB).
  fargate_memory_by_cpu = {
    "256"   = [512, 1024, 2048]
    "512"   = range(1024, 4097, 1024)
    "1024"  = range(2048, 8193, 1024)
    "2048"  = range(4096, 16385, 1024)
    "4096"  = range(8192, 30721, 1024)
    "8192"  = range(16384, 61441, 4096)
    "16384" = range(32768, 122881, 8192)
  }

  postgres      = var.store == "postgres"
  database_name = "loadbench"
  database_user = "loadbench"
  # RDS keeps the generated password in this secret (a JSON object with username and password).
  database_secret_arn = local.postgres ? aws_db_instance.this[0].master_user_secret[0].secret_arn : null

  image_platform = var.task_cpu_architecture == "ARM64" ? "linux/arm64" : "linux/amd64"

  https            = var.certificate_arn != null
  service_url      = "${local.https ? "https" : "http"}://${aws_lb.this.dns_name}"
  service_workers  = coalesce(var.service_workers, local.postgres ? max(1, floor(var.service_cpu / 1024)) : 1)
  locust_ui_port   = 8089
  locust_port      = 5557
  locust_namespace = "${var.name}.local"
  locust_master    = "locust-master.${local.locust_namespace}"

  # The most Fargate vCPUs the plan runs at once (make preflight compares it with the account's
  # quota): the service at its largest count, the Locust master and workers, and one sweep task.
  service_max_tasks     = var.enable_autoscaling ? var.autoscaling_max_capacity : var.service_desired_count
  fargate_vcpus_planned = (var.service_cpu * local.service_max_tasks + (var.enable_locust ? var.locust_cpu * (1 + var.locust_workers) + var.sweep_cpu : 0)) / 1024
}
