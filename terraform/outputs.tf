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
  value       = aws_ecr_repository.this["service"].repository_url
}

output "ecr_loadgen_repository_url" {
  description = "ECR repository of the load-generator (Locust) image."
  value       = aws_ecr_repository.this["loadgen"].repository_url
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
  description = "Web UI URL of the ECS Locust master: the sweep runner's --master-host (null without enable_locust)."
  value       = var.enable_locust ? "${local.https ? "https" : "http"}://${aws_lb.this.dns_name}:${local.locust_ui_port}" : null
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
  value       = local.image_platform
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
    subnets         = aws_subnet.private[*].id
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
