output "service_url" {
  description = "URL of the service through the public load balancer: the sweep runner's --host."
  value       = local.service_url
}

output "service_internal_url" {
  description = "URL of the service through the internal load balancer, the one the ECS Locust workers load (null without enable_locust)."
  value       = local.service_internal_url
}

output "ecr_repository_url" {
  description = "ECR repository of the service image (push <url>:<image_tag> before applying)."
  value       = terraform_data.build.output.repositories["service"]
}

output "ecr_loadgen_repository_url" {
  description = "ECR repository of the load-generator (Locust) image."
  value       = terraform_data.build.output.repositories["loadgen"]
}

output "aws_region" {
  description = "Region of this deployment: make destroy, pause, resume and status use it, not terraform.tfvars."
  value       = terraform_data.build.output.region
}

output "cluster_name" {
  description = "Name of the ECS cluster."
  value       = aws_ecs_cluster.this.name
}

output "service_name" {
  description = "Name of the service's ECS service (for aws ecs update-service / describe-services)."
  value       = local.service.name
}

output "log_group_name" {
  description = "CloudWatch log group of every container of the stack."
  value       = aws_cloudwatch_log_group.this.name
}

output "locust_master_url" {
  description = "Web UI URL of the ECS Locust master (null without enable_locust): with locust_ui_public its TLS address behind the login; otherwise the local end of `make locust-ui` (SSM port forwarding)."
  value       = var.enable_locust ? (var.locust_ui_public ? "https://${aws_lb.this.dns_name}:${local.locust_ui_port}" : "http://127.0.0.1:${local.locust_ui_port}") : null
}

output "locust_master_dns_name" {
  description = "Private DNS name the Locust workers use to reach the master (null without enable_locust)."
  value       = var.enable_locust ? local.locust_master : null
}

output "locust_workers" {
  description = "Locust worker tasks requested: the sweep runner's --expect-workers (0 without enable_locust)."
  value       = var.enable_locust ? var.locust_workers : 0
}

output "store" {
  description = "The service's storage backend (STORE): memory or postgres."
  value       = var.store
}

output "database_endpoint" {
  description = "host:port of the RDS PostgreSQL instance (null with store = \"memory\")."
  value       = local.postgres ? aws_db_instance.this[0].endpoint : null
}

output "database_secret_arn" {
  description = "Secrets Manager secret RDS generated for the database's master user (null with store = \"memory\")."
  value       = local.database_secret_arn
}

output "cache_endpoint" {
  description = "Primary endpoint of the ElastiCache Redis cache (null without enable_cache)."
  value       = var.enable_cache ? aws_elasticache_replication_group.this[0].primary_endpoint_address : null
}

output "dashboard_name" {
  description = "Name of the CloudWatch dashboard of the stack."
  value       = aws_cloudwatch_dashboard.this.dashboard_name
}

output "image_platform" {
  description = "Platform the images must be built for (buildah --platform), from task_cpu_architecture."
  value       = terraform_data.build.output.platform
}

output "results_bucket" {
  description = "S3 bucket the remote sweeps upload to (null without enable_locust)."
  value       = var.enable_locust ? aws_s3_bucket.results[0].id : null
}

output "remote_sweep" {
  description = "What `python -m scenarios.remote_results launch` needs to start a sweep task (null without enable_locust)."
  value = var.enable_locust ? {
    region          = var.aws_region
    cluster         = aws_ecs_cluster.this.name
    task_definition = aws_ecs_task_definition.sweep[0].arn
    container       = "sweep"
    subnets         = local.private_task_subnets
    security_groups = [aws_security_group.locust[0].id]
    bucket          = aws_s3_bucket.results[0].id
    prefix          = local.results_prefix
    log_group       = aws_cloudwatch_log_group.this.name
    service_name    = "${var.name}-service"
    store           = var.store
    cache           = var.enable_cache
    image_tag       = var.image_tag
  } : null
}

output "operations" {
  description = "What make pause, resume, status and destroy (deploy/aws_ops) need: region, cluster, services with their sizes and counts, the database."
  value = {
    region  = var.aws_region
    cluster = aws_ecs_cluster.this.name
    services = merge(
      {
        (local.service.name) = {
          role      = "service", cpu = var.service_cpu, memory = var.service_memory, spot = false,
          public_ip = true, resume_count = var.service_desired_count
        }
      },
      var.enable_locust ? {
        (aws_ecs_service.locust_master[0].name) = {
          role      = "locust-master", cpu = var.locust_cpu, memory = var.locust_memory, spot = false,
          public_ip = false, resume_count = local.locust_master_count
        }
        (aws_ecs_service.locust_worker[0].name) = {
          role      = "locust-worker", cpu = var.locust_cpu, memory = var.locust_memory,
          spot      = var.locust_spot_workers, public_ip = false, resume_count = local.locust_worker_count,
          max_count = var.locust_workers
        }
      } : {},
    )
    database            = local.postgres ? aws_db_instance.this[0].identifier : null
    database_class      = local.postgres ? var.db_instance_class : null
    cache_node_type     = var.enable_cache ? var.cache_node_type : null
    load_balancers      = var.enable_locust ? 2 : 1
    interface_endpoints = var.enable_locust ? length(local.interface_endpoints) : 0
    fargate_vcpus       = local.fargate_vcpus_planned
  }
}
