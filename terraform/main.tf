# Values shared by the files of this stack, which are split by concern:
#   network.tf      VPC, two public subnets, internet gateway, routes, security groups
#   ecr.tf          image repositories and their lifecycle policy
#   iam.tf          the tasks' execution role (least privilege) and the log group
#   ecs.tf          cluster, the service's task definition and ECS service
#   alb.tf          load balancer, target groups, listeners
#   autoscaling.tf  target tracking on CPU and on requests per target
#   locust.tf       Locust master and workers on ECS, Cloud Map namespace

data "aws_availability_zones" "available" {
  #checkov:skip=CKV_AWS_394:Only the first two zones are used (local.availability_zones), so a zone AWS adds later changes nothing; availability_zones pins them by name.

  state = "available"
}

locals {
  emulated = var.aws_endpoint_url != null

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

  https            = var.certificate_arn != null
  service_url      = "${local.https ? "https" : "http"}://${aws_lb.this.dns_name}"
  service_workers  = coalesce(var.service_workers, max(1, floor(var.service_cpu / 1024)))
  locust_ui_port   = 8089
  locust_port      = 5557
  locust_namespace = "${var.name}.local"
  locust_master    = "locust-master.${local.locust_namespace}"
}
