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
  value       = aws_ecs_service.service.name
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
