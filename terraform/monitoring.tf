# ------------------------------------------------------------------------------------------------
# CloudWatch dashboard `<name>` (requests, response-time percentiles, 4xx/5xx, healthy hosts, task
# CPU/memory, running tasks; the database and cache when deployed) and two alarms: the share of
# 5xx answers, and unhealthy service targets.
# ------------------------------------------------------------------------------------------------

locals {
  # Load balancer/target group pairs of the service: the public one, and the internal one the ECS
  # Locust workers load.
  service_target_groups = merge(
    { public = { lb = aws_lb.this.arn_suffix, tg = aws_lb_target_group.service.arn_suffix } },
    var.enable_locust ? { internal = { lb = aws_lb.internal[0].arn_suffix, tg = aws_lb_target_group.internal_service[0].arn_suffix } } : {},
  )

  ecs_service_dimensions = ["ClusterName", aws_ecs_cluster.this.name, "ServiceName", "${var.name}-service"]

  dashboard_widgets = concat(
    [
      {
        type = "metric", width = 12, height = 6,
        properties = {
          title   = "Requests per minute", region = var.aws_region, stat = "Sum", period = 60, view = "timeSeries",
          metrics = [for key, pair in local.service_target_groups : ["AWS/ApplicationELB", "RequestCount", "LoadBalancer", pair.lb, { label = key }]]
        }
      },
      {
        type = "metric", width = 12, height = 6,
        properties = {
          title = "Target response time (s)", region = var.aws_region, period = 60, view = "timeSeries",
          # setproduct, not flatten: flatten would also flatten each metric's own array.
          metrics = [for item in setproduct(keys(local.service_target_groups), ["p50", "p90", "p99"]) :
            ["AWS/ApplicationELB", "TargetResponseTime", "LoadBalancer", local.service_target_groups[item[0]].lb, { stat = item[1], label = "${item[0]} ${item[1]}" }]
          ]
        }
      },
      {
        type = "metric", width = 12, height = 6,
        properties = {
          title = "4xx and 5xx per minute", region = var.aws_region, stat = "Sum", period = 60, view = "timeSeries",
          metrics = [for item in setproduct(keys(local.service_target_groups), ["HTTPCode_Target_4XX_Count", "HTTPCode_Target_5XX_Count", "HTTPCode_ELB_5XX_Count"]) :
            ["AWS/ApplicationELB", item[1], "LoadBalancer", local.service_target_groups[item[0]].lb, { label = "${item[0]} ${item[1]}" }]
          ]
        }
      },
      {
        type = "metric", width = 12, height = 6,
        properties = {
          title = "Healthy and unhealthy service targets", region = var.aws_region, stat = "Minimum", period = 60, view = "timeSeries",
          metrics = [for item in setproduct(keys(local.service_target_groups), ["HealthyHostCount", "UnHealthyHostCount"]) :
            ["AWS/ApplicationELB", item[1], "TargetGroup", local.service_target_groups[item[0]].tg, "LoadBalancer", local.service_target_groups[item[0]].lb, { label = "${item[0]} ${item[1]}" }]
          ]
        }
      },
      {
        type = "metric", width = 12, height = 6,
        properties = {
          title = "Service task CPU and memory (% of the task)", region = var.aws_region, period = 60, view = "timeSeries",
          metrics = [
            concat(["AWS/ECS", "CPUUtilization"], local.ecs_service_dimensions, [{ stat = "Average", label = "CPU average" }]),
            concat(["AWS/ECS", "CPUUtilization"], local.ecs_service_dimensions, [{ stat = "Maximum", label = "CPU max" }]),
            concat(["AWS/ECS", "MemoryUtilization"], local.ecs_service_dimensions, [{ stat = "Average", label = "memory average" }]),
          ]
        }
      },
      {
        type = "metric", width = 12, height = 6,
        properties = {
          title   = "Running service tasks (Container Insights)", region = var.aws_region, stat = "Average", period = 60, view = "timeSeries",
          metrics = [concat(["ECS/ContainerInsights", "RunningTaskCount"], local.ecs_service_dimensions)]
        }
      },
    ],
    local.postgres ? [
      {
        type = "metric", width = 12, height = 6,
        properties = {
          title = "PostgreSQL: CPU (%) and connections", region = var.aws_region, stat = "Average", period = 60, view = "timeSeries",
          metrics = [
            for metric in ["CPUUtilization", "DatabaseConnections"] :
            ["AWS/RDS", metric, "DBInstanceIdentifier", aws_db_instance.this[0].identifier]
          ]
        }
      },
      {
        type = "metric", width = 12, height = 6,
        properties = {
          title = "PostgreSQL: read and write latency (s), IOPS", region = var.aws_region, stat = "Average", period = 60, view = "timeSeries",
          metrics = [
            for metric in ["ReadLatency", "WriteLatency", "ReadIOPS", "WriteIOPS"] :
            ["AWS/RDS", metric, "DBInstanceIdentifier", aws_db_instance.this[0].identifier]
          ]
        }
      },
    ] : [],
    var.enable_cache ? [
      {
        type = "metric", width = 12, height = 6,
        properties = {
          title = "Redis: hits, misses, CPU", region = var.aws_region, stat = "Sum", period = 60, view = "timeSeries",
          metrics = [
            for metric in ["CacheHits", "CacheMisses", "EngineCPUUtilization"] :
            ["AWS/ElastiCache", metric, "ReplicationGroupId", aws_elasticache_replication_group.this[0].id]
          ]
        }
      },
    ] : [],
  )
}

resource "aws_cloudwatch_dashboard" "this" {
  dashboard_name = var.name
  dashboard_body = jsonencode({ widgets = local.dashboard_widgets })
}

# Share of 5xx answers (from the tasks or the load balancer itself) among all requests, per load
# balancer, over one minute. No traffic counts as no breach.
resource "aws_cloudwatch_metric_alarm" "errors_5xx" {
  for_each = local.service_target_groups

  alarm_name          = "${var.name}-${each.key}-5xx-rate"
  alarm_description   = "More than ${var.alarm_5xx_percent}% of the requests through the ${each.key} load balancer answered 5xx over a minute."
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.alarm_5xx_percent
  evaluation_periods  = 1
  treat_missing_data  = "notBreaching"
  alarm_actions       = var.alarm_actions
  ok_actions          = var.alarm_actions

  metric_query {
    id          = "rate"
    expression  = "100 * (FILL(target5xx, 0) + FILL(elb5xx, 0)) / requests"
    label       = "5xx percent"
    return_data = true
  }

  dynamic "metric_query" {
    for_each = { requests = "RequestCount", target5xx = "HTTPCode_Target_5XX_Count", elb5xx = "HTTPCode_ELB_5XX_Count" }
    content {
      id = metric_query.key
      metric {
        namespace   = "AWS/ApplicationELB"
        metric_name = metric_query.value
        dimensions  = { LoadBalancer = each.value.lb }
        period      = 60
        stat        = "Sum"
      }
    }
  }
}

resource "aws_cloudwatch_metric_alarm" "unhealthy_hosts" {
  for_each = local.service_target_groups

  alarm_name          = "${var.name}-${each.key}-unhealthy-targets"
  alarm_description   = "A service task behind the ${each.key} load balancer failed its /health check for two minutes."
  namespace           = "AWS/ApplicationELB"
  metric_name         = "UnHealthyHostCount"
  dimensions          = { TargetGroup = each.value.tg, LoadBalancer = each.value.lb }
  statistic           = "Maximum"
  period              = 60
  evaluation_periods  = 2
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  treat_missing_data  = "notBreaching"
  alarm_actions       = var.alarm_actions
  ok_actions          = var.alarm_actions
}
