# ------------------------------------------------------------------------------------------------
# Target-tracking autoscaling of the service on CPU and on requests per target (each load balancer
# counts its own requests, so there is one request policy per target group). Autoscaling changes the
# system under test: switch it off (enable_autoscaling = false) for sweeps that need a fixed size.
# ------------------------------------------------------------------------------------------------

resource "aws_appautoscaling_target" "service" {
  count = var.enable_autoscaling ? 1 : 0

  service_namespace  = "ecs"
  resource_id        = "service/${aws_ecs_cluster.this.name}/${aws_ecs_service.autoscaled[0].name}"
  scalable_dimension = "ecs:service:DesiredCount"
  min_capacity       = var.autoscaling_min_capacity
  max_capacity       = var.autoscaling_max_capacity
}

resource "aws_appautoscaling_policy" "cpu" {
  count = var.enable_autoscaling ? 1 : 0

  name               = "${var.name}-cpu"
  policy_type        = "TargetTrackingScaling"
  service_namespace  = aws_appautoscaling_target.service[0].service_namespace
  resource_id        = aws_appautoscaling_target.service[0].resource_id
  scalable_dimension = aws_appautoscaling_target.service[0].scalable_dimension

  target_tracking_scaling_policy_configuration {
    target_value       = var.autoscaling_cpu_target
    scale_in_cooldown  = 120
    scale_out_cooldown = 30

    predefined_metric_specification {
      predefined_metric_type = "ECSServiceAverageCPUUtilization"
    }
  }
}

locals {
  # Resource label of ALBRequestCountPerTarget: "<load balancer arn suffix>/<target group arn suffix>".
  request_count_labels = var.enable_autoscaling ? merge(
    { public = "${aws_lb.this.arn_suffix}/${aws_lb_target_group.service.arn_suffix}" },
    var.enable_locust ? { internal = "${aws_lb.internal[0].arn_suffix}/${aws_lb_target_group.internal_service[0].arn_suffix}" } : {},
  ) : {}
}

resource "aws_appautoscaling_policy" "requests" {
  for_each = local.request_count_labels

  name               = "${var.name}-requests-${each.key}"
  policy_type        = "TargetTrackingScaling"
  service_namespace  = aws_appautoscaling_target.service[0].service_namespace
  resource_id        = aws_appautoscaling_target.service[0].resource_id
  scalable_dimension = aws_appautoscaling_target.service[0].scalable_dimension

  target_tracking_scaling_policy_configuration {
    target_value       = var.autoscaling_requests_per_target
    scale_in_cooldown  = 120
    scale_out_cooldown = 30

    predefined_metric_specification {
      predefined_metric_type = "ALBRequestCountPerTarget"
      resource_label         = each.value
    }
  }
}
